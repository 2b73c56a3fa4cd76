"""Pure-PyTorch references of the masking ops, with the same counter-based draws.

These are what the compiled ``torch.ops.jepa`` kernels are tested against: for the same
seed, step and sample ids they return the same indices, bit for bit. They also serve as
the fallback wherever the extension is not built. The whole batch is drawn at once, on
the device of the inputs; nothing is truncated (ragged sets are padded with validity).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from .blocks import ATTEMPTS
from .maskset import MaskSet
from .philox import (TAG_MULTIBLOCK, TAG_RANDOM_SUBSET, TAG_TEMPORAL, below, philox4x32,
                     sample_counters, seed_key)
from .plans import (MultiblockPlan, SubsetPlan, TemporalPlan, check_token_valid, plan_multiblock,
                    plan_random_subset, plan_temporal, resolve_sample_ids)

__all__ = ["multiblock_masks", "random_subset_masks", "temporal_masks"]


def _device(device, token_valid: Tensor | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return token_valid.device if token_valid is not None else torch.device("cpu")


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


def multiblock_masks(batch_size: int, grid: Sequence[int], *, num_targets: int,
                     target_scale: Sequence[float], target_aspect: Sequence[float],
                     context_scale: Sequence[float], context_aspect: Sequence[float],
                     min_keep: int, seed: int, step: int = 0, device=None,
                     token_valid: Tensor | None = None, allow_overlap: bool = False,
                     temporal_scale: Sequence[float] = (1.0, 1.0),
                     sample_ids: Tensor | None = None) -> MaskSet:
    """Multiblock masks (I-JEPA / V-JEPA): ``M`` target blocks and a context block minus them.

    The block shapes are drawn once per batch from ``(seed, step)``; each sample places its
    blocks from its own stream ``(seed, step, sample id)``. A block tries up to
    :data:`~jepa_core.masking.blocks.ATTEMPTS` positions and keeps the first holding
    ``min_keep`` valid tokens (else the fullest). Targets may overlap each other; the
    context excludes every target unless ``allow_overlap``.

    Args:
        batch_size: number of samples ``B``.
        grid: token grid ``(L,)``, ``(H, W)`` or ``(T, H, W)``.
        num_targets: target blocks per sample ``M``.
        target_scale, context_scale: block size as a fraction of the (spatial) grid.
        target_aspect, context_aspect: ``h / w`` range of 2-D/3-D blocks (log-uniform).
        min_keep: tokens a block should keep.
        seed, step: the run seed and the global step.
        device: where to draw (default: ``token_valid``'s device, else CPU).
        token_valid: ``[B, N]`` bool; invalid tokens are never picked.
        allow_overlap: let the context overlap targets.
        temporal_scale: fraction of frames a 3-D target block spans.
        sample_ids: ``[B]`` global sample ids (default ``arange(B)``).

    Returns:
        A :class:`MaskSet`, trimmed to the widest sample.

    Shapes:
        context ``[B, Kc]``, targets ``[B, M, Kt]``.

    Examples:
        >>> m = multiblock_masks(2, (14, 14), num_targets=4, target_scale=(0.15, 0.2),
        ...                      target_aspect=(0.75, 1.5), context_scale=(0.85, 1.0),
        ...                      context_aspect=(1.0, 1.0), min_keep=4, seed=0)
        >>> m.target_idx.shape[:2]
        torch.Size([2, 4])
    """
    plan = plan_multiblock(batch_size, grid, num_targets=num_targets, target_scale=target_scale,
                           target_aspect=target_aspect, context_scale=context_scale,
                           context_aspect=context_aspect, min_keep=min_keep,
                           allow_overlap=allow_overlap, temporal_scale=temporal_scale,
                           seed=seed, step=step)
    dev = _device(device, token_valid)
    valid = check_token_valid(token_valid, plan.batch_size, math.prod(plan.grid))
    out = multiblock_from_plan(plan, seed=seed, step=step,
                               sample_ids=resolve_sample_ids(sample_ids, plan.batch_size, dev),
                               token_valid=None if valid is None else valid.to(dev))
    return MaskSet(*out).trimmed()


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


def random_subset_masks(batch_size: int, grid: Sequence[int] | int, *, context_ratio: float,
                        target_ratio: float, seed: int, step: int = 0, device=None,
                        token_valid: Tensor | None = None,
                        sample_ids: Tensor | None = None) -> MaskSet:
    """Disjoint random context/target subsets of each sample's valid tokens (T-JEPA features,
    random patch masking).

    Each sample ranks its valid tokens by a Philox key; the first ``floor(context_ratio * V)``
    are the context, the next ``floor(target_ratio * V)`` the target (at least one of each
    when ``V >= 2``). The target set is one block, ``M = 1``.

    Args:
        batch_size: number of samples ``B``.
        grid: the token grid (or the number of tokens).
        context_ratio, target_ratio: fractions of the valid tokens, in ``(0, 1]``, sum <= 1.
        seed, step, device, token_valid, sample_ids: as in :func:`multiblock_masks`.

    Returns:
        A trimmed :class:`MaskSet` with ``M = 1``.

    Examples:
        >>> m = random_subset_masks(3, 10, context_ratio=0.5, target_ratio=0.3, seed=1)
        >>> m.context_valid.sum(-1).tolist(), m.target_valid.sum(-1).flatten().tolist()
        ([5, 5, 5], [3, 3, 3])
    """
    plan = plan_random_subset(batch_size, grid, context_ratio=context_ratio, target_ratio=target_ratio)
    dev = _device(device, token_valid)
    valid = check_token_valid(token_valid, plan.batch_size, plan.num_tokens)
    out = random_subset_from_plan(plan, seed=seed, step=step,
                                  sample_ids=resolve_sample_ids(sample_ids, plan.batch_size, dev),
                                  token_valid=None if valid is None else valid.to(dev))
    return MaskSet(*out).trimmed()


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


def temporal_masks(batch_size: int, grid: Sequence[int], *, frames: int, seed: int, step: int = 0,
                   random_span: bool = False, device=None, token_valid: Tensor | None = None,
                   sample_ids: Tensor | None = None) -> MaskSet:
    """Hide ``frames`` frames of a ``T x ...`` grid: the last ones, or a random span per sample.

    The context is every token of the visible frames, the target (``M = 1``) every token of
    the hidden ones; invalid tokens are in neither.

    Args:
        batch_size: number of samples ``B``.
        grid: ``(T, ...)``; the first axis is time.
        frames: hidden frames ``k``, ``1 <= k < T``.
        random_span: draw each sample's span start in ``[0, T - k]`` instead of ``T - k``.
        seed, step, device, token_valid, sample_ids: as in :func:`multiblock_masks`.

    Returns:
        A trimmed :class:`MaskSet` with ``M = 1``.

    Examples:
        >>> m = temporal_masks(1, (3, 2), frames=1, seed=0)
        >>> m.context_idx.tolist(), m.target_idx.tolist()
        ([[0, 1, 2, 3]], [[[4, 5]]])
    """
    plan = plan_temporal(batch_size, grid, frames=frames, random_span=random_span)
    dev = _device(device, token_valid)
    valid = check_token_valid(token_valid, plan.batch_size, math.prod(plan.grid))
    out = temporal_from_plan(plan, seed=seed, step=step,
                             sample_ids=resolve_sample_ids(sample_ids, plan.batch_size, dev),
                             token_valid=None if valid is None else valid.to(dev))
    return MaskSet(*out).trimmed()
