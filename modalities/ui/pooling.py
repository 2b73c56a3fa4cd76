"""``ui_segments`` pooling: a session embedding that keeps the order of its parts."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from jepa_core.config import ComponentConfig
from jepa_core.models.pooling import Pooling, valid_mean


@dataclasses.dataclass
class SegmentPoolingConfig(ComponentConfig):
    """``pooling:`` section of ``ui_segments``: consecutive parts of a session, averaged apart."""

    segments: int = 2
    last: bool = False
    last_events: int = 0

    def __post_init__(self) -> None:
        if int(self.segments) < 1:
            raise ValueError(f"pooling.segments must be >= 1, got {self.segments}")
        if int(self.last_events) < 0:
            raise ValueError(f"pooling.last_events must be >= 0, got {self.last_events}")


class SegmentPooling(Pooling):
    """``ui_segments``: each sample's valid tokens cut into ``segments`` consecutive parts of
    (about) equal length, the mean of each part, side by side: ``[B, segments * D]``.

    A plain mean forgets in which order things happened (a session that searches then buys
    averages like one that buys then searches); the parts keep it. Event ``i`` of ``L``
    goes to part ``floor((i + 1/2) * segments / L)``; a part with no event (a session
    shorter than ``segments`` events) is zeros.

    With ``last=True`` the embedding is the mean of the whole session next to the mean of
    its last part only, ``[B, 2 * D]``: what was done overall and what was done at the end,
    whatever the number of parts. With ``last_events=k`` (k >= 1, and ``last=True``) the
    end is the mean of the last ``k`` valid events instead of the last part (``k=1``: the
    last event's token, which has attended to the whole session).

    Examples:
        >>> x = torch.tensor([[[1.0], [3.0], [5.0], [7.0]]])
        >>> SegmentPooling(segments=2)(x, torch.zeros(1, 0, 1), torch.tensor([[True, True, True, False]]))
        tensor([[1., 4.]])
        >>> SegmentPooling(segments=2, last=True)(x, torch.zeros(1, 0, 1), torch.tensor([[True, True, True, False]]))
        tensor([[3., 4.]])
        >>> SegmentPooling(last=True, last_events=1)(x, torch.zeros(1, 0, 1), torch.tensor([[True, True, True, False]]))
        tensor([[3., 5.]])
    """

    config_class = SegmentPoolingConfig

    def __init__(self, segments: int = 2, last: bool = False, last_events: int = 0) -> None:
        self.segments = int(segments)
        self.last = bool(last)
        self.last_events = int(last_events)

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
            if self.last_events:
                end = valid & (rank >= count - self.last_events)            # the last k valid events
                return torch.cat([mean, valid_mean(features, end)], dim=1)
            return torch.cat([mean, parts[:, -1]], dim=1)
        return parts.reshape(b, self.segments * d)
