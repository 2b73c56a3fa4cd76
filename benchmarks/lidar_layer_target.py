"""An EMA target averaged over the teacher's last blocks (data2vec's targets), for ``lidar_long.py``.

``target.kind: ema_layers`` (registered at run time by ``lidar_long.py``, not by the
package): the teacher, its momentum and what is probed downstream (the teacher's output)
are those of ``ema``; the targets the predictor must match are the mean of the teacher's
last ``target.average_last`` blocks' outputs, each layer-normed. Tried in session 7 of
``results/lidar_long.md`` (it did not keep long runs from falling), so it stays a
benchmark component.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.models import Encoder
from jepa_core.targets import EmaTarget, EmaTargetConfig
from jepa_core.tokens import TokenBatch


@dataclass
class LayerAverageTargetConfig(EmaTargetConfig):
    """``target:`` section of ``ema_layers``: ``ema``'s momentum, and how many of the
    teacher's last blocks the targets average."""

    kind: str = "ema_layers"
    average_last: int = 2


class LayerAverageTarget(EmaTarget):
    """An EMA teacher whose targets are the mean of its last ``average_last`` blocks' outputs."""

    config_class = LayerAverageTargetConfig

    def __init__(self, student: Encoder, teacher: Encoder | None = None,
                 momentum: tuple[float, float] = (0.996, 1.0), average_last: int = 2) -> None:
        super().__init__(student, teacher, momentum=momentum)
        depth = len(student.transformer.blocks)
        if not 1 <= average_last <= depth:
            raise ValueError(f"target.average_last must be between 1 and model.depth={depth}, "
                             f"got {average_last}")
        self.average_last = int(average_last)

    def forward(self, batch, student: Encoder, student_tokens: TokenBatch) -> Tensor:
        with torch.no_grad():
            return layer_average(self.encoder, self.encoder.tokenize(batch), self.average_last)


def layer_average(encoder: Encoder, tokens: TokenBatch, last: int) -> Tensor:
    """Mean of the layer-normed outputs of ``encoder``'s last ``last`` blocks, ``[B, N, D]``.

    The blocks' outputs are read by forward hooks, with the transformer's packed path
    (which runs the blocks' layers directly) switched off for the call.
    """
    transformer = encoder.transformer
    outputs: list[Tensor] = []
    hooks = [b.register_forward_hook(lambda _m, _i, out: outputs.append(out))
             for b in transformer.blocks[-last:]]
    transformer.pack_below = -1.0  # never pack: the hooks need every block's forward
    try:
        encoder(tokens)
    finally:
        del transformer.pack_below
        for h in hooks:
            h.remove()
    r = encoder.registers.shape[1]
    return torch.stack([F.layer_norm(o[:, r:], o.shape[-1:]) for o in outputs]).mean(0)
