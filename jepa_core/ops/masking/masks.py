"""Mask sampling: ``torch.ops.jepa.{multiblock,random_subset,temporal}_masks`` and dispatch.

Each function checks its request (impossible requests raise ``ValueError`` here, before
any kernel runs), draws the per-batch block shapes, then samples the whole batch in one
call: the compiled kernel when the extension has one for the device, otherwise the
pure-PyTorch reference in :mod:`.reference`, which gives the same indices bit for bit.
Outputs are trimmed to the widest sample.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor

from ..capabilities import compiled_cpu, compiled_cuda, extension_problem, has_op, warn_once
from .blocks import MAX_TARGETS
from .maskset import MaskSet
from .plans import (SubsetPlan, check_token_valid, plan_multiblock, plan_random_subset, plan_temporal,
                    resolve_sample_ids)
from .reference import multiblock_from_plan, random_subset_from_plan, temporal_from_plan

__all__ = ["BACKENDS", "masking_backend", "multiblock_masks", "random_subset_masks", "temporal_masks"]

_OPS = ("multiblock_masks", "random_subset_masks", "temporal_masks")
#: ``backend=`` values: the kernel when compiled (else the reference, warned once), the
#: kernel or an error, the pure-PyTorch reference.
BACKENDS = ("auto", "compiled", "reference")


def _compiled(name: str, device: torch.device) -> bool:
    if device.type == "cuda":
        return compiled_cuda(name)
    if device.type == "cpu":
        return compiled_cpu(name)
    return False


def _use_op(name: str, device: torch.device, backend: str) -> bool:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "reference":
        return False
    if _compiled(name, device):
        return True
    if backend == "compiled":
        raise RuntimeError(f"torch.ops.jepa.{name} is not compiled for {device.type}; rebuild with "
                           "pip install --no-build-isolation -e .")
    why = extension_problem()
    warn_once(f"torch.ops.jepa.{name} is not compiled for {device.type}"
              f"{'' if why in (None, 'not built') else ': the extension is ' + why}; "
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


def _inputs(token_valid: Tensor | None, sample_ids: Tensor | None, batch_size: int, num_tokens: int,
            device) -> tuple[torch.device, Tensor | None, Tensor]:
    """The device, checked ``token_valid`` and resolved sample ids, all on that device."""
    dev = _device(device, token_valid)
    valid = check_token_valid(token_valid, batch_size, num_tokens)
    return dev, None if valid is None else valid.to(dev), resolve_sample_ids(sample_ids, batch_size, dev)


def _int64(x: int) -> int:
    """``x`` wrapped to a signed 64-bit value (the op schema's ``int``)."""
    return ((int(x) + (1 << 63)) % (1 << 64)) - (1 << 63)


def multiblock_masks(batch_size: int, grid: Sequence[int], *, num_targets: int,
                     target_scale: Sequence[float], target_aspect: Sequence[float],
                     context_scale: Sequence[float], context_aspect: Sequence[float],
                     min_keep: int, seed: int, step: int = 0, device=None,
                     token_valid: Tensor | None = None, allow_overlap: bool = False,
                     temporal_scale: Sequence[float] = (1.0, 1.0),
                     sample_ids: Tensor | None = None, backend: str = "auto",
                     full_span: bool = True) -> MaskSet:
    """Multiblock masks (I-JEPA / V-JEPA): ``M`` target blocks and a context block minus them.

    The block shapes are drawn once per batch from ``(seed, step)``; each sample places its
    blocks from its own stream ``(seed, step, sample id)``. A block tries up to
    :data:`~jepa_core.ops.masking.blocks.ATTEMPTS` positions and keeps the first holding
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
        backend: one of :data:`BACKENDS` (the same masks from each).
        full_span: let a block span a whole grid side; ``False``: every block side is at
            most the grid's minus one, as in I-JEPA's mask collator.

    Returns:
        A :class:`MaskSet`, trimmed to the widest sample.

    Shapes:
        context ``[B, Kc]``, targets ``[B, M, Kt]``.

    Examples:
        >>> m = multiblock_masks(4, (8, 14, 14), num_targets=2, target_scale=(0.15, 0.2),
        ...                      target_aspect=(0.75, 1.5), context_scale=(0.85, 1.0),
        ...                      context_aspect=(1.0, 1.0), min_keep=4, seed=0,
        ...                      temporal_scale=(0.5, 1.0))
        >>> m.target_idx.shape[:2], bool((m.context_valid.sum(-1) >= 4).all())
        (torch.Size([4, 2]), True)
    """
    plan = plan_multiblock(batch_size, grid, num_targets=num_targets, target_scale=target_scale,
                           target_aspect=target_aspect, context_scale=context_scale,
                           context_aspect=context_aspect, min_keep=min_keep,
                           allow_overlap=allow_overlap, temporal_scale=temporal_scale,
                           seed=seed, step=step, full_span=full_span)
    dev, valid, ids = _inputs(token_valid, sample_ids, plan.batch_size, math.prod(plan.grid), device)
    if _use_op("multiblock_masks", dev, backend):
        out = torch.ops.jepa.multiblock_masks(
            ids, valid, list(plan.grid), plan.num_targets, list(plan.target_shape),
            list(plan.context_shape), plan.min_keep, plan.allow_overlap, _int64(seed), _int64(step))
    else:
        out = multiblock_from_plan(plan, seed=seed, step=step, sample_ids=ids, token_valid=valid)
    return MaskSet(*out).trimmed()


def random_subset_masks(batch_size: int, grid: Sequence[int] | int, *, context_ratio: float,
                        target_ratio: float, seed: int, step: int = 0, device=None,
                        token_valid: Tensor | None = None, sample_ids: Tensor | None = None,
                        backend: str = "auto") -> MaskSet:
    """Disjoint random context/target subsets of each sample's valid tokens (T-JEPA features,
    random patch masking).

    Each sample ranks its valid tokens by a Philox key; the first ``floor(context_ratio * V)``
    are the context, the next ``floor(target_ratio * V)`` the target (at least one of each
    when ``V >= 2``). The target set is one block, ``M = 1``.

    Args:
        batch_size: number of samples ``B``.
        grid: the token grid (or the number of tokens).
        context_ratio, target_ratio: fractions of the valid tokens, in ``(0, 1]``, sum <= 1.
        seed, step, device, token_valid, sample_ids, backend: as in :func:`multiblock_masks`.

    Returns:
        A trimmed :class:`MaskSet` with ``M = 1``.

    Examples:
        >>> m = random_subset_masks(3, 10, context_ratio=0.5, target_ratio=0.3, seed=1)
        >>> m.context_valid.sum(-1).tolist(), m.target_valid.sum(-1).flatten().tolist()
        ([5, 5, 5], [3, 3, 3])
    """
    plan = plan_random_subset(batch_size, grid, context_ratio=context_ratio, target_ratio=target_ratio)
    dev, valid, ids = _inputs(token_valid, sample_ids, plan.batch_size, plan.num_tokens, device)
    if _use_op("random_subset_masks", dev, backend):
        out = torch.ops.jepa.random_subset_masks(ids, valid, plan.num_tokens, plan.context_ratio,
                                                 plan.target_ratio, _int64(seed), _int64(step))
    else:
        out = random_subset_from_plan(plan, seed=seed, step=step, sample_ids=ids, token_valid=valid)
    return MaskSet(*out).trimmed()


def temporal_masks(batch_size: int, grid: Sequence[int], *, frames: int, seed: int, step: int = 0,
                   random_span: bool = False, device=None, token_valid: Tensor | None = None,
                   sample_ids: Tensor | None = None, backend: str = "auto") -> MaskSet:
    """Hide ``frames`` frames of a ``T x ...`` grid: the last ones, or a random span per sample.

    The context is every token of the visible frames, the target (``M = 1``) every token of
    the hidden ones; invalid tokens are in neither.

    Args:
        batch_size: number of samples ``B``.
        grid: ``(T, ...)``; the first axis is time.
        frames: hidden frames ``k``, ``1 <= k < T``.
        random_span: draw each sample's span start in ``[0, T - k]`` instead of ``T - k``.
        seed, step, device, token_valid, sample_ids, backend: as in :func:`multiblock_masks`.

    Returns:
        A trimmed :class:`MaskSet` with ``M = 1``.

    Examples:
        >>> m = temporal_masks(1, (3, 2), frames=1, seed=0)
        >>> m.context_idx.tolist(), m.target_idx.tolist()
        ([[0, 1, 2, 3]], [[[4, 5]]])
    """
    plan = plan_temporal(batch_size, grid, frames=frames, random_span=random_span)
    dev, valid, ids = _inputs(token_valid, sample_ids, plan.batch_size, math.prod(plan.grid), device)
    if _use_op("temporal_masks", dev, backend):
        out = torch.ops.jepa.temporal_masks(ids, valid, plan.grid[0], plan.frame_tokens, plan.frames,
                                            plan.random_span, _int64(seed), _int64(step))
    else:
        out = temporal_from_plan(plan, seed=seed, step=step, sample_ids=ids, token_valid=valid)
    return MaskSet(*out).trimmed()


def _check_mask_inputs(sample_ids: Tensor, token_valid: Tensor | None, num_tokens) -> None:
    """The input checks of ``csrc/masking.h`` (``check_mask_inputs``), for the fakes."""
    torch._check(sample_ids.dim() == 1 and sample_ids.dtype == torch.int64,
                 lambda: f"jepa masking: sample_ids must be a 1-D int64 tensor, got {sample_ids.dtype} "
                         f"{tuple(sample_ids.shape)}")
    if token_valid is not None:
        torch._check(token_valid.dtype == torch.bool, lambda: "jepa masking: token_valid must be bool")
        torch._check(token_valid.dim() == 2, lambda: f"jepa masking: token_valid must be "
                                                     f"[B, {num_tokens}], got {tuple(token_valid.shape)}")
        for got, want in ((token_valid.shape[0], sample_ids.shape[0]), (token_valid.shape[1], num_tokens)):
            torch._check(got == want, lambda: f"jepa masking: token_valid must be [{sample_ids.shape[0]}, "
                                              f"{num_tokens}], got {tuple(token_valid.shape)}")


def _register_fakes() -> None:
    """Shape-only kernels so the ops trace under ``torch.compile`` (static output widths).

    Each checks its inputs as the C++ kernels do (``torch._check``), so a bad call fails
    while tracing with the kernels' message rather than later inside compiled code.
    """

    def outputs(ids: Tensor, kc: int, m: int, kt: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        b = ids.shape[0]
        return (ids.new_empty((b, kc), dtype=torch.int64), ids.new_empty((b, kc), dtype=torch.bool),
                ids.new_empty((b, m, kt), dtype=torch.int64), ids.new_empty((b, m, kt), dtype=torch.bool))

    if has_op("multiblock_masks"):
        @torch.library.register_fake("jepa::multiblock_masks")
        def _multiblock_fake(sample_ids, token_valid, grid, num_targets, target_shape, context_shape,
                             min_keep, allow_overlap, seed, step):
            torch._check(1 <= len(grid) <= 3,
                         lambda: f"jepa::multiblock_masks: grid must have 1 to 3 axes, got {list(grid)}")
            torch._check(len(target_shape) == len(grid) and len(context_shape) == len(grid),
                         lambda: "jepa::multiblock_masks: block shapes must have as many axes as the grid")
            torch._check(1 <= num_targets <= MAX_TARGETS, lambda: f"jepa::multiblock_masks: num_targets "
                                                                  f"must be in [1, {MAX_TARGETS}], got {num_targets}")
            torch._check(all(g >= 1 and 1 <= t <= g and 1 <= c <= g
                             for g, t, c in zip(grid, target_shape, context_shape)),
                         lambda: f"jepa::multiblock_masks: block shapes must fit the grid {list(grid)}, got "
                                 f"{list(target_shape)} and {list(context_shape)}")
            _check_mask_inputs(sample_ids, token_valid, math.prod(grid))
            return outputs(sample_ids, math.prod(context_shape), num_targets, math.prod(target_shape))

    if has_op("random_subset_masks"):
        @torch.library.register_fake("jepa::random_subset_masks")
        def _random_subset_fake(sample_ids, token_valid, num_tokens, context_ratio, target_ratio, seed, step):
            torch._check(num_tokens >= 1, lambda: "jepa::random_subset_masks: num_tokens must be >= 1")
            _check_mask_inputs(sample_ids, token_valid, num_tokens)
            kc, kt = SubsetPlan(1, (num_tokens,), context_ratio, target_ratio).counts(num_tokens)
            return outputs(sample_ids, kc, 1, kt)

    if has_op("temporal_masks"):
        @torch.library.register_fake("jepa::temporal_masks")
        def _temporal_fake(sample_ids, token_valid, num_frames, frame_tokens, frames, random_span, seed, step):
            torch._check(1 <= frames < num_frames and frame_tokens >= 1,
                         lambda: "jepa::temporal_masks: need 1 <= frames < num_frames and frame_tokens >= 1")
            _check_mask_inputs(sample_ids, token_valid, num_frames * frame_tokens)
            return outputs(sample_ids, (num_frames - frames) * frame_tokens, 1, frames * frame_tokens)


_register_fakes()
