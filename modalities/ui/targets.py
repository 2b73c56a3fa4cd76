"""``ui_layers`` target: an EMA teacher whose targets average its last blocks (data2vec-style)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.models import Encoder
from jepa_core.targets import EmaTargetConfig, TargetProvider
from jepa_core.tokens import TokenBatch


@dataclass
class LayerAverageTargetConfig(EmaTargetConfig):
    """``target:`` section of ``ui_layers``: ``ema``'s momentum schedule, and how many of the
    teacher's last blocks the targets average (``layers: 1`` is the last block alone)."""

    kind: str = "ui_layers"
    layers: int = 2

    def __post_init__(self) -> None:
        if int(self.layers) < 1:
            raise ValueError(f"target.layers must be >= 1, got {self.layers}")


def block_outputs(encoder: Encoder, tokens: TokenBatch) -> list[Tensor]:
    """The residual stream of every token after each transformer block, ``depth x [B, N, D]``.

    The same computation as :meth:`Encoder.encode` on all tokens (positions, registers,
    the blocks), stopped before the final norm; register outputs are dropped.
    """
    x = encoder.input_proj(tokens.tokens) + encoder.positions(tokens)
    regs = encoder.registers.expand(x.shape[0], -1, -1).to(x.dtype)
    r = regs.shape[1]
    x = torch.cat([regs, x], dim=1)
    valid = F.pad(tokens.valid, (r, 0), value=True)
    outs = []
    for block in encoder.transformer.blocks:
        x = block(x, valid)
        outs.append(x[:, r:])
    return outs


class LayerAverageTarget(TargetProvider):
    """``target.kind: ui_layers``: an EMA teacher (as ``ema``) whose target for each token is
    the mean of its last ``layers`` block outputs, each layer-normed (data2vec's targets).

    The last block alone keeps what predicts the masked events best; averaging in the
    blocks below keeps more of what each event was (its action, element, place), which a
    session embedding read out by a linear probe needs too. The probes still read the
    teacher's own final output (:meth:`Encoder.pooled_features`).
    """

    config_class = LayerAverageTargetConfig

    def __init__(self, student: Encoder, teacher: Encoder | None = None,
                 momentum: tuple[float, float] = (0.996, 1.0), layers: int = 2) -> None:
        super().__init__("ema", student, momentum=momentum)
        depth = len(student.transformer.blocks)
        if not 1 <= int(layers) <= depth:
            raise ValueError(f"target.layers={layers} must be between 1 and the encoder's "
                             f"model.depth={depth}")
        self.layers = int(layers)

    def forward(self, batch, student: Encoder, student_tokens: TokenBatch) -> Tensor:
        """Mean of the layer-normed last ``layers`` block outputs, ``[B, N, D]``; no gradient."""
        with torch.no_grad():
            outs = block_outputs(self.encoder, self.encoder.tokenize(batch))[-self.layers:]
            return torch.stack([F.layer_norm(o, o.shape[-1:]) for o in outs]).mean(0)
