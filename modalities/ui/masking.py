"""Maskers for event sequences: contiguous spans of events, and the future events.

Both draw on each sample's valid events only (padding is never context nor target),
keyed by ``(seed, step, sample id)`` so a resumed run masks as an uninterrupted one. A
session of a single event has no target (it adds nothing to the prediction loss).

- ``ui_span`` (:class:`EventSpanMasker`): ``num_spans`` contiguous spans of about
  ``span_ratio * L / num_spans`` events each (one span per equal segment of the
  session) are the targets; the other events are the context. With ``tail: true`` the
  last span ends at the session's last event: the context must also predict how the
  session ends (future-event masking inside the span masks).
- ``ui_future`` (:class:`FutureEventMasker`): the last ``ratio`` of the events (a share
  drawn per sample in ``[low, high]``) is the target, the events before it the context:
  predict what the user does next, UI-JEPA's temporal masking on event sequences.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from jepa_core.config import ComponentConfig
from jepa_core.masking import Masker, MaskSet
from jepa_core.tokens import TokenLayout

_MASK64 = (1 << 64) - 1


def sample_seed(seed: int, step: int, sample_id: int) -> int:
    """A 63-bit seed from ``(seed, step, sample id)`` (splitmix64 finalizer over the three).

    Examples:
        >>> sample_seed(0, 1, 2) == sample_seed(0, 1, 2) != sample_seed(0, 2, 1)
        True
    """
    z = 0
    for v in (seed, step, sample_id):
        z = (z + (int(v) & _MASK64) + 0x9E3779B97F4A7C15) & _MASK64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        z ^= z >> 31
    return z >> 1


def _pad(rows: list[Tensor]) -> tuple[Tensor, Tensor]:
    width = max(1, max(len(r) for r in rows))
    idx = torch.zeros(len(rows), width, dtype=torch.int64)
    valid = torch.zeros(len(rows), width, dtype=torch.bool)
    for i, r in enumerate(rows):
        idx[i, :len(r)], valid[i, :len(r)] = r, True
    return idx, valid


def _mask_set(contexts: list[Tensor], targets: list[list[Tensor]], device) -> MaskSet:
    """Pad per-sample index lists into a MaskSet (``targets[m][i]``: block m of sample i)."""
    ctx_idx, ctx_valid = _pad(contexts)
    blocks = [_pad(t) for t in targets]
    width = max(b[0].shape[1] for b in blocks)
    pad = torch.nn.functional.pad
    tgt_idx = torch.stack([pad(i, (0, width - i.shape[1])) for i, _ in blocks], 1)
    tgt_valid = torch.stack([pad(v, (0, width - v.shape[1])) for _, v in blocks], 1)
    return MaskSet(ctx_idx.to(device), ctx_valid.to(device), tgt_idx.to(device), tgt_valid.to(device))


def _inputs(batch_size: int, layout: TokenLayout, sample_ids, token_valid, device):
    n = layout.num_tokens
    if token_valid is None:
        token_valid = torch.ones(batch_size, n, dtype=torch.bool)
    if token_valid.shape != (batch_size, n):
        raise ValueError(f"token_valid must be [{batch_size}, {n}], got {tuple(token_valid.shape)}")
    if sample_ids is None:
        sample_ids = torch.arange(batch_size)
    device = device if device is not None else token_valid.device
    return token_valid.cpu(), sample_ids.cpu().tolist(), device


def span_masks(token_valid: Tensor, sample_ids: list[int], *, seed: int, step: int,
               num_spans: int, span_ratio: float,
               tail: bool = False) -> tuple[list[Tensor], list[list[Tensor]]]:
    """Context and ``num_spans`` contiguous target spans per sample, over its valid events.

    With ``tail`` the last span is the sample's last events instead of a random place in
    its segment.

    Examples:
        >>> valid = torch.tensor([[True] * 8 + [False] * 2])
        >>> ctx, tgt = span_masks(valid, [0], seed=0, step=0, num_spans=2, span_ratio=0.5)
        >>> [len(t[0]) for t in tgt], sorted(ctx[0].tolist() + tgt[0][0].tolist() + tgt[1][0].tolist())
        ([2, 2], [0, 1, 2, 3, 4, 5, 6, 7])
        >>> span_masks(valid, [0], seed=0, step=0, num_spans=2, span_ratio=0.5, tail=True)[1][1][0].tolist()
        [6, 7]
    """
    contexts, targets = [], [[] for _ in range(num_spans)]
    for row, sid in zip(token_valid, sample_ids):
        pos = torch.nonzero(row, as_tuple=True)[0]
        n = len(pos)
        g = torch.Generator().manual_seed(sample_seed(seed, step, sid))
        seg = n // num_spans
        span = min(max(1, round(span_ratio * n / num_spans)), seg - 1) if seg >= 2 else 0
        taken = torch.zeros(n, dtype=torch.bool)
        for s in range(num_spans):
            if span < 1:
                targets[s].append(pos[:0])
                continue
            if tail and s == num_spans - 1:
                start = n - span
            else:
                start = s * seg + int(torch.randint(0, seg - span + 1, (1,), generator=g))
            taken[start:start + span] = True
            targets[s].append(pos[start:start + span])
        contexts.append(pos[~taken])
    return contexts, targets


def future_masks(token_valid: Tensor, sample_ids: list[int], *, seed: int, step: int,
                 ratio: tuple[float, float]) -> tuple[list[Tensor], list[Tensor]]:
    """Per sample: the last ``r`` share of its valid events (``r`` drawn in ``ratio``) is
    the target, every valid event before them the context; at least one of each when the
    sample has two events or more.

    Examples:
        >>> valid = torch.tensor([[True] * 10])
        >>> ctx, tgt = future_masks(valid, [0], seed=0, step=0, ratio=(0.3, 0.3))
        >>> ctx[0].tolist(), tgt[0].tolist()
        ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9])
    """
    contexts, targets = [], []
    lo, hi = ratio
    for row, sid in zip(token_valid, sample_ids):
        pos = torch.nonzero(row, as_tuple=True)[0]
        n = len(pos)
        g = torch.Generator().manual_seed(sample_seed(seed, step, sid))
        r = lo + (hi - lo) * float(torch.rand((), generator=g))
        k = min(max(1, round(r * n)), n - 1) if n >= 2 else 0
        contexts.append(pos[:n - k])
        targets.append(pos[n - k:])
    return contexts, targets


def _check_1d(name: str, layout: TokenLayout, need: int) -> None:
    if len(layout.grid) != 1:
        raise ValueError(f"{name} masks 1-D event sequences, got the grid {layout.grid}")
    if layout.num_tokens < need:
        raise ValueError(f"{name} needs sessions of at least {need} events, got {layout.num_tokens}")


@dataclass
class EventSpanConfig(ComponentConfig):
    """``mask: {name: ui_span, num_spans: 2, span_ratio: 0.4, tail: false}``."""

    num_spans: int = 2
    span_ratio: float = 0.4
    tail: bool = False


class EventSpanMasker(Masker):
    """The ``ui_span`` masker (see the module docstring)."""

    config_class = EventSpanConfig

    def __init__(self, num_spans: int = 2, span_ratio: float = 0.4, tail: bool = False) -> None:
        if num_spans < 1:
            raise ValueError(f"mask.num_spans must be >= 1, got {num_spans}")
        if not 0.0 < span_ratio < 1.0:
            raise ValueError(f"mask.span_ratio must be in (0, 1), got {span_ratio}")
        self.num_spans, self.span_ratio, self.tail = int(num_spans), float(span_ratio), bool(tail)

    def check(self, layout: TokenLayout) -> None:
        _check_1d("ui_span", layout, 1)

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 device=None, **_: object) -> MaskSet:
        valid, ids, device = _inputs(batch_size, layout, sample_ids, token_valid, device)
        ctx, tgt = span_masks(valid, ids, seed=seed, step=step, num_spans=self.num_spans,
                              span_ratio=self.span_ratio, tail=self.tail)
        return _mask_set(ctx, tgt, device)


@dataclass
class FutureEventConfig(ComponentConfig):
    """``mask: {name: ui_future, ratio: [0.2, 0.4]}``: the share of events hidden at the end."""

    ratio: list[float] = field(default_factory=lambda: [0.2, 0.4])


class FutureEventMasker(Masker):
    """The ``ui_future`` masker (see the module docstring)."""

    config_class = FutureEventConfig

    def __init__(self, ratio: list[float] | tuple[float, float] = (0.2, 0.4)) -> None:
        if len(ratio) != 2 or not 0.0 < ratio[0] <= ratio[1] < 1.0:
            raise ValueError(f"mask.ratio needs [low, high] with 0 < low <= high < 1, got {list(ratio)}")
        self.ratio = (float(ratio[0]), float(ratio[1]))

    def check(self, layout: TokenLayout) -> None:
        _check_1d("ui_future", layout, 1)

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 device=None, **_: object) -> MaskSet:
        valid, ids, device = _inputs(batch_size, layout, sample_ids, token_valid, device)
        ctx, tgt = future_masks(valid, ids, seed=seed, step=step, ratio=self.ratio)
        return _mask_set(ctx, [tgt], device)
