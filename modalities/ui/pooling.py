"""``ui_segments`` pooling: a session embedding that keeps the order of its parts."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from jepa_core.config import ComponentConfig
from jepa_core.models.pooling import Pooling


@dataclasses.dataclass
class SegmentPoolingConfig(ComponentConfig):
    """``pooling:`` section of ``ui_segments``: consecutive parts of a session, averaged apart."""

    segments: int = 2
    last: bool = False

    def __post_init__(self) -> None:
        if int(self.segments) < 1:
            raise ValueError(f"pooling.segments must be >= 1, got {self.segments}")


class SegmentPooling(Pooling):
    """``ui_segments``: each sample's valid tokens cut into ``segments`` consecutive parts of
    (about) equal length, the mean of each part, side by side: ``[B, segments * D]``.

    A plain mean forgets in which order things happened (a session that searches then buys
    averages like one that buys then searches); the parts keep it. Event ``i`` of ``L``
    goes to part ``floor((i + 1/2) * segments / L)``; a part with no event (a session
    shorter than ``segments`` events) is zeros.

    With ``last=True`` the embedding is the mean of the whole session next to the mean of
    its last part only, ``[B, 2 * D]``: what was done overall and what was done at the end,
    whatever the number of parts.

    Examples:
        >>> x = torch.tensor([[[1.0], [3.0], [5.0], [7.0]]])
        >>> SegmentPooling(segments=2)(x, torch.zeros(1, 0, 1), torch.tensor([[True, True, True, False]]))
        tensor([[1., 4.]])
        >>> SegmentPooling(segments=2, last=True)(x, torch.zeros(1, 0, 1), torch.tensor([[True, True, True, False]]))
        tensor([[3., 4.]])
    """

    config_class = SegmentPoolingConfig

    def __init__(self, segments: int = 2, last: bool = False) -> None:
        self.segments = int(segments)
        self.last = bool(last)

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        b, n, d = features.shape
        count = valid.sum(1, keepdim=True).clamp_min(1)                     # [B, 1]
        rank = valid.long().cumsum(1) - 1                                   # index among valid tokens
        part = ((2 * rank + 1) * self.segments) // (2 * count)              # by each token's centre
        onehot = torch.nn.functional.one_hot(part.clamp(0, self.segments - 1), self.segments)
        w = (onehot * valid[..., None]).to(features.dtype)                  # [B, N, S]
        sums = torch.einsum("bns,bnd->bsd", w, features)
        parts = sums / w.sum(1)[..., None].clamp_min(1.0)                   # [B, S, D]
        if self.last:
            mean = sums.sum(1) / count.to(features.dtype)
            return torch.cat([mean, parts[:, -1]], dim=1)
        return parts.reshape(b, self.segments * d)
