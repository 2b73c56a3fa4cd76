"""Pure-PyTorch references of the masking kernels, with the same counter-based draws.

For a checked plan, the same seed, step and sample ids, each ``*_from_plan`` returns the
indices the compiled ``torch.ops.jepa`` kernel returns, bit for bit; :mod:`.masks`
dispatches to them where the extension is not built (or with ``backend="reference"``).
The whole batch is drawn at once, on the device of the inputs; nothing is truncated
(ragged sets are padded with validity).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .blocks import ATTEMPTS
from .philox import (TAG_MULTIBLOCK, TAG_RANDOM_SUBSET, TAG_TEMPORAL, below, philox4x32,
                     sample_counters, seed_key)
from .plans import MultiblockPlan, SubsetPlan, TemporalPlan

__all__ = ["multiblock_from_plan", "random_subset_from_plan", "temporal_from_plan"]


def _words(sample_ids: Tensor, step: int, tag: int, seed: int, draws: int) -> Tensor:
    """``[B, draws, 4]`` Philox words of each sample's stream ``tag``."""
    c1, c2, c3 = (c[:, None] for c in sample_counters(sample_ids, step, tag))
    c0 = torch.arange(draws, dtype=torch.int64, device=sample_ids.device)[None, :]
    return philox4x32(c0, c1, c2, c3, *seed_key(seed))


def _indices(mask: Tensor, width: int) -> tuple[Tensor, Tensor]:
    """Sorted indices of the ``True`` entries of ``mask[..., N]``, padded to ``width``."""
    count = mask.sum(-1, keepdim=True)
    order = torch.argsort((~mask).to(torch.uint8), dim=-1, stable=True)[..., :width]
    valid = torch.arange(width, device=mask.device) < count
    return order.masked_fill(~valid, 0), valid


def _block_members(grid: tuple[int, ...], shape: tuple[int, ...], words: Tensor) -> Tensor:
    """``[..., N]`` membership of the blocks of ``shape`` placed by ``words[..., 4]``."""
    member = None
    for d, (g, s) in enumerate(zip(grid, shape)):
        pos = below(words[..., d], g - s + 1)[..., None]
        coord = torch.arange(g, device=words.device)
        inside = (coord >= pos) & (coord < pos + s)
        member = inside if member is None else (member[..., :, None] & inside[..., None, :]).flatten(-2)
    return member


def _choose(mask: Tensor, min_keep: int) -> Tensor:
    """Pick among ``mask[..., R, N]`` attempts: the first holding ``min_keep`` tokens, else
    the first with the most tokens; returns ``[..., N]``."""
    count = mask.sum(-1)
    r = torch.arange(mask.shape[-2], device=mask.device)
    best = torch.where(count >= min_keep, mask.shape[-1] + 1 + mask.shape[-2] - r, count).argmax(-1)
    return torch.take_along_dim(mask, best[..., None, None], dim=-2).squeeze(-2)


def multiblock_from_plan(plan: MultiblockPlan, *, seed: int, step: int, sample_ids: Tensor,
                         token_valid: Tensor | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Untrimmed multiblock outputs (widths: the block volumes) for a checked plan."""
    b, m, r = plan.batch_size, plan.num_targets, ATTEMPTS
    n = math.prod(plan.grid)
    words = _words(sample_ids, step, TAG_MULTIBLOCK, seed, (m + 1) * r)
    valid = token_valid[:, None, None, :] if token_valid is not None else None
    tmask = _block_members(plan.grid, plan.target_shape, words[:, :m * r].view(b, m, r, 4))
    if valid is not None:
        tmask = tmask & valid
    tmask = _choose(tmask, plan.min_keep)                                  # [B, M, N]
    cmask = _block_members(plan.grid, plan.context_shape, words[:, m * r:])  # [B, R, N]
    if valid is not None:
        cmask = cmask & valid[:, 0]
    if not plan.allow_overlap:
        cmask = cmask & ~tmask.any(1, keepdim=True)
    cmask = _choose(cmask, plan.min_keep)                                  # [B, N]
    c_idx, c_valid = _indices(cmask, math.prod(plan.context_shape))
    t_idx, t_valid = _indices(tmask, min(n, math.prod(plan.target_shape)))
    return c_idx, c_valid, t_idx, t_valid


def _valid_or_all(token_valid: Tensor | None, b: int, n: int, dev: torch.device) -> Tensor:
    return token_valid.to(dev) if token_valid is not None else torch.ones(b, n, dtype=torch.bool, device=dev)


def random_subset_from_plan(plan: SubsetPlan, *, seed: int, step: int, sample_ids: Tensor,
                            token_valid: Tensor | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Untrimmed random-subset outputs for a checked plan."""
    b, n = plan.batch_size, plan.num_tokens
    valid = _valid_or_all(token_valid, b, n, sample_ids.device)
    keys = _words(sample_ids, step, TAG_RANDOM_SUBSET, seed, (n + 3) // 4).flatten(1)[:, :n]
    keys = keys.masked_fill(~valid, 1 << 32)
    order = torch.argsort(keys, dim=-1, stable=True)
    rank = torch.empty_like(order).scatter_(1, order, torch.arange(n, device=order.device).expand(b, n))
    v = valid.sum(-1, keepdim=True)
    kc = torch.floor(v.double() * plan.context_ratio).long()
    kt = torch.floor(v.double() * plan.target_ratio).long()
    kc = torch.where(v >= 2, kc.clamp_min(1), v)
    kt = torch.where(v >= 2, kt.clamp_min(1), torch.zeros_like(v))
    wc, wt = plan.counts(n)
    c_idx, c_valid = _indices(rank < kc, wc)
    t_idx, t_valid = _indices((rank >= kc) & (rank < kc + kt), wt)
    return c_idx, c_valid, t_idx[:, None], t_valid[:, None]


def temporal_from_plan(plan: TemporalPlan, *, seed: int, step: int, sample_ids: Tensor,
                       token_valid: Tensor | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Untrimmed temporal outputs for a checked plan."""
    b, t, k, hw = plan.batch_size, plan.grid[0], plan.frames, plan.frame_tokens
    dev = sample_ids.device
    valid = _valid_or_all(token_valid, b, t * hw, dev)
    if plan.random_span:
        start = below(_words(sample_ids, step, TAG_TEMPORAL, seed, 1)[:, 0, 0], t - k + 1)[:, None]
    else:
        start = torch.full((b, 1), t - k, dtype=torch.int64, device=dev)
    frame = torch.arange(t * hw, device=dev) // hw
    hidden = (frame >= start) & (frame < start + k)
    c_idx, c_valid = _indices(~hidden & valid, (t - k) * hw)
    t_idx, t_valid = _indices(hidden & valid, k * hw)
    return c_idx, c_valid, t_idx[:, None], t_valid[:, None]
