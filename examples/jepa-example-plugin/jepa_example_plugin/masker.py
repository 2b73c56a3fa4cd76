"""``example-span``: contiguous target spans on a 1-D token sequence, over valid tokens.

Per sample, the valid tokens (in order) are cut into ``num_spans`` equal segments and
one span of ``span_ratio * L / num_spans`` tokens (at least 1) is drawn inside each: the
``M = num_spans`` target blocks. The context is every other valid token. Padding is
never drawn. The draw of a sample depends only on ``(seed, step, sample id)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from jepa_core.config import ComponentConfig
from jepa_core.masking import Masker, MaskSet
from jepa_core.tokens import TokenLayout


@dataclass
class SpanConfig(ComponentConfig):
    """``mask: {name: example-span, num_spans: 2, span_ratio: 0.3}``."""

    num_spans: int = 2
    span_ratio: float = 0.3


def _pad(rows: list[Tensor], device: torch.device) -> tuple[Tensor, Tensor]:
    width = max(1, max(len(r) for r in rows))
    idx = torch.zeros(len(rows), width, dtype=torch.int64, device=device)
    valid = torch.zeros(len(rows), width, dtype=torch.bool, device=device)
    for i, r in enumerate(rows):
        idx[i, :len(r)] = r
        valid[i, :len(r)] = True
    return idx, valid


def span_masks(token_valid: Tensor, sample_ids: Tensor, *, seed: int, step: int,
               num_spans: int, span_ratio: float) -> MaskSet:
    """Context and ``num_spans`` target spans per sample (see the module docstring).

    Shapes:
        token_valid ``[B, N]`` bool, sample_ids ``[B]`` -> context ``[B, Kc]``,
        targets ``[B, num_spans, Kt]``.

    Examples:
        >>> valid = torch.tensor([[True] * 6 + [False] * 4])
        >>> m = span_masks(valid, torch.tensor([0]), seed=0, step=0, num_spans=2, span_ratio=0.4)
        >>> m.target_idx.shape, bool((m.target_idx[m.target_valid] < 6).all())
        (torch.Size([1, 2, 1]), True)
        >>> sorted(m.context_idx[m.context_valid].tolist() + m.target_idx[m.target_valid].tolist())
        [0, 1, 2, 3, 4, 5]
    """
    device = token_valid.device
    contexts, targets = [], [[] for _ in range(num_spans)]
    for i in range(token_valid.shape[0]):
        pos = torch.nonzero(token_valid[i].cpu(), as_tuple=True)[0]
        n = len(pos)
        g = torch.Generator().manual_seed(hash((int(seed), int(step), int(sample_ids[i]))) % (2**62))
        seg = n // num_spans
        span = min(max(1, round(span_ratio * n / num_spans)), max(seg - 1, 0)) if n >= 2 else 0
        taken = torch.zeros(n, dtype=torch.bool)
        for s in range(num_spans):
            if span == 0:
                targets[s].append(pos[:0])
                continue
            start = s * seg + int(torch.randint(0, seg - span + 1, (1,), generator=g))
            taken[start:start + span] = True
            targets[s].append(pos[start:start + span])
        contexts.append(pos[~taken])
    ctx_idx, ctx_valid = _pad(contexts, device)
    blocks = [_pad(t, device) for t in targets]
    width = max(b[0].shape[1] for b in blocks)
    tgt_idx = torch.stack([torch.nn.functional.pad(b[0], (0, width - b[0].shape[1])) for b in blocks], 1)
    tgt_valid = torch.stack([torch.nn.functional.pad(b[1], (0, width - b[1].shape[1])) for b in blocks], 1)
    return MaskSet(ctx_idx, ctx_valid, tgt_idx, tgt_valid)


class SpanMasker(Masker):
    """The ``example-span`` masker; its ``mask:`` fields are :class:`SpanConfig`'s."""

    config_class = SpanConfig

    def __init__(self, num_spans: int = 2, span_ratio: float = 0.3) -> None:
        if num_spans < 1:
            raise ValueError(f"mask.num_spans must be >= 1, got {num_spans}")
        if not 0.0 < span_ratio < 1.0:
            raise ValueError(f"mask.span_ratio must be in (0, 1), got {span_ratio}")
        self.num_spans = int(num_spans)
        self.span_ratio = float(span_ratio)

    def check(self, layout: TokenLayout) -> None:
        if len(layout.grid) != 1:
            raise ValueError(f"example-span masks 1-D sequences, got the grid {layout.grid}")
        if layout.num_tokens < 2 * self.num_spans:
            raise ValueError(f"example-span needs at least {2 * self.num_spans} tokens for "
                             f"{self.num_spans} span(s), the sequence has {layout.num_tokens}")

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 device: torch.device | str | None = None, **_: object) -> MaskSet:
        n = layout.num_tokens
        if token_valid is None:
            token_valid = torch.ones(batch_size, n, dtype=torch.bool, device=device)
        if sample_ids is None:
            sample_ids = torch.arange(batch_size)
        if token_valid.shape != (batch_size, n):
            raise ValueError(f"token_valid must be [{batch_size}, {n}], got {tuple(token_valid.shape)}")
        return span_masks(token_valid.to(device) if device is not None else token_valid,
                          sample_ids.cpu(), seed=seed, step=step, num_spans=self.num_spans,
                          span_ratio=self.span_ratio)
