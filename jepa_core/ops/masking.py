"""Mask sampling ops: ``torch.ops.jepa.{multiblock,random_subset,temporal}_masks`` and dispatch.

Each wrapper checks its request (impossible requests raise ``ValueError`` here, before any
kernel runs), draws the per-batch block shapes, then samples the whole batch in one call:
the compiled kernel when the extension has one for the device, otherwise the pure-PyTorch
reference in :mod:`jepa_core.masking.reference`, which gives the same indices bit for bit.
Outputs are trimmed to the widest sample.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from ..masking.maskset import MaskSet
from ..masking.plans import (check_token_valid, plan_multiblock, plan_random_subset, plan_temporal,
                             resolve_sample_ids)
from ..masking.reference import multiblock_from_plan, random_subset_from_plan, temporal_from_plan
from .capabilities import compiled_cpu, compiled_cuda, warn_once

__all__ = ["masking_backend", "multiblock_masks", "random_subset_masks", "temporal_masks"]

_OPS = ("multiblock_masks", "random_subset_masks", "temporal_masks")


def _compiled(name: str, device: torch.device) -> bool:
    if device.type == "cuda":
        return compiled_cuda(name)
    if device.type == "cpu":
        return compiled_cpu(name)
    return False


def _use_op(name: str, device: torch.device) -> bool:
    if _compiled(name, device):
        return True
    warn_once(f"torch.ops.jepa.{name} is not compiled for {device.type}; "
                   "using the pure-PyTorch reference (same masks, slower)")
    return False


def masking_backend(device: torch.device | str = "cpu") -> str:
    """``"compiled"`` when every masking op has a kernel for ``device``, else ``"reference"``.

    Examples:
        >>> masking_backend("cpu") in ("compiled", "reference")
        True
    """
    device = torch.device(device)
    return "compiled" if all(_compiled(n, device) for n in _OPS) else "reference"


def _device(device, token_valid: Tensor | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return token_valid.device if token_valid is not None else torch.device("cpu")


def _int64(x: int) -> int:
    """``x`` wrapped to a signed 64-bit value (the op schema's ``int``)."""
    return ((int(x) + (1 << 63)) % (1 << 64)) - (1 << 63)


def multiblock_masks(batch_size: int, grid: Sequence[int], *, num_targets: int,
                     target_scale: Sequence[float], target_aspect: Sequence[float],
                     context_scale: Sequence[float], context_aspect: Sequence[float],
                     min_keep: int, seed: int, step: int = 0, device=None,
                     token_valid: Tensor | None = None, allow_overlap: bool = False,
                     temporal_scale: Sequence[float] = (1.0, 1.0),
                     sample_ids: Tensor | None = None) -> MaskSet:
    """Multiblock masks for a batch on the fastest path; see
    :func:`jepa_core.masking.reference.multiblock_masks` for the semantics.

    Examples:
        >>> m = multiblock_masks(4, (8, 14, 14), num_targets=2, target_scale=(0.15, 0.2),
        ...                      target_aspect=(0.75, 1.5), context_scale=(0.85, 1.0),
        ...                      context_aspect=(1.0, 1.0), min_keep=4, seed=0,
        ...                      temporal_scale=(0.5, 1.0))
        >>> bool((m.context_valid.sum(-1) >= 4).all())
        True
    """
    plan = plan_multiblock(batch_size, grid, num_targets=num_targets, target_scale=target_scale,
                           target_aspect=target_aspect, context_scale=context_scale,
                           context_aspect=context_aspect, min_keep=min_keep,
                           allow_overlap=allow_overlap, temporal_scale=temporal_scale,
                           seed=seed, step=step)
    dev = _device(device, token_valid)
    valid = check_token_valid(token_valid, plan.batch_size, math.prod(plan.grid))
    valid = None if valid is None else valid.to(dev)
    ids = resolve_sample_ids(sample_ids, plan.batch_size, dev)
    if _use_op("multiblock_masks", dev):
        out = torch.ops.jepa.multiblock_masks(
            ids, valid, list(plan.grid), plan.num_targets, list(plan.target_shape),
            list(plan.context_shape), plan.min_keep, plan.allow_overlap, _int64(seed), _int64(step))
    else:
        out = multiblock_from_plan(plan, seed=seed, step=step, sample_ids=ids, token_valid=valid)
    return MaskSet(*out).trimmed()


def random_subset_masks(batch_size: int, grid: Sequence[int] | int, *, context_ratio: float,
                        target_ratio: float, seed: int, step: int = 0, device=None,
                        token_valid: Tensor | None = None,
                        sample_ids: Tensor | None = None) -> MaskSet:
    """Disjoint random context/target subsets on the fastest path; see
    :func:`jepa_core.masking.reference.random_subset_masks`.

    Examples:
        >>> m = random_subset_masks(2, 12, context_ratio=0.5, target_ratio=0.25, seed=3)
        >>> m.context_idx.shape, m.target_idx.shape
        (torch.Size([2, 6]), torch.Size([2, 1, 3]))
    """
    plan = plan_random_subset(batch_size, grid, context_ratio=context_ratio, target_ratio=target_ratio)
    dev = _device(device, token_valid)
    valid = check_token_valid(token_valid, plan.batch_size, plan.num_tokens)
    valid = None if valid is None else valid.to(dev)
    ids = resolve_sample_ids(sample_ids, plan.batch_size, dev)
    if _use_op("random_subset_masks", dev):
        out = torch.ops.jepa.random_subset_masks(ids, valid, plan.num_tokens, plan.context_ratio,
                                                 plan.target_ratio, _int64(seed), _int64(step))
    else:
        out = random_subset_from_plan(plan, seed=seed, step=step, sample_ids=ids, token_valid=valid)
    return MaskSet(*out).trimmed()


def temporal_masks(batch_size: int, grid: Sequence[int], *, frames: int, seed: int, step: int = 0,
                   random_span: bool = False, device=None, token_valid: Tensor | None = None,
                   sample_ids: Tensor | None = None) -> MaskSet:
    """Hide ``frames`` frames (last or random span) on the fastest path; see
    :func:`jepa_core.masking.reference.temporal_masks`.

    Examples:
        >>> temporal_masks(1, (4, 1), frames=2, seed=0).target_idx.tolist()
        [[[2, 3]]]
    """
    plan = plan_temporal(batch_size, grid, frames=frames, random_span=random_span)
    dev = _device(device, token_valid)
    valid = check_token_valid(token_valid, plan.batch_size, math.prod(plan.grid))
    valid = None if valid is None else valid.to(dev)
    ids = resolve_sample_ids(sample_ids, plan.batch_size, dev)
    if _use_op("temporal_masks", dev):
        out = torch.ops.jepa.temporal_masks(ids, valid, plan.grid[0], plan.frame_tokens, plan.frames,
                                            plan.random_span, _int64(seed), _int64(step))
    else:
        out = temporal_from_plan(plan, seed=seed, step=step, sample_ids=ids, token_valid=valid)
    return MaskSet(*out).trimmed()


def _register_fakes() -> None:
    """Shape-only kernels so the ops trace under ``torch.compile`` (static output widths)."""
    from ..masking.plans import SubsetPlan
    from .capabilities import has_op

    def outputs(ids: Tensor, kc: int, m: int, kt: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        b = ids.shape[0]
        return (ids.new_empty((b, kc), dtype=torch.int64), ids.new_empty((b, kc), dtype=torch.bool),
                ids.new_empty((b, m, kt), dtype=torch.int64), ids.new_empty((b, m, kt), dtype=torch.bool))

    if has_op("multiblock_masks"):
        @torch.library.register_fake("jepa::multiblock_masks")
        def _multiblock_fake(sample_ids, token_valid, grid, num_targets, target_shape, context_shape,
                             min_keep, allow_overlap, seed, step):
            return outputs(sample_ids, math.prod(context_shape), num_targets, math.prod(target_shape))

    if has_op("random_subset_masks"):
        @torch.library.register_fake("jepa::random_subset_masks")
        def _random_subset_fake(sample_ids, token_valid, num_tokens, context_ratio, target_ratio, seed, step):
            kc, kt = SubsetPlan(1, (num_tokens,), context_ratio, target_ratio).counts(num_tokens)
            return outputs(sample_ids, kc, 1, kt)

    if has_op("temporal_masks"):
        @torch.library.register_fake("jepa::temporal_masks")
        def _temporal_fake(sample_ids, token_valid, num_frames, frame_tokens, frames, random_span, seed, step):
            return outputs(sample_ids, (num_frames - frames) * frame_tokens, 1, frames * frame_tokens)


_register_fakes()
