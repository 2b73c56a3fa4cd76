"""Validated mask requests: every impossible request fails here, before any kernel runs.

Both the pure-PyTorch references and the compiled-op wrappers turn their arguments into
one of these plans, so they accept and reject exactly the same requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from .blocks import MAX_TARGETS, block_extremes, check_batch, check_grid, check_range, draw_block_shape


@dataclass(frozen=True)
class MultiblockPlan:
    """A multiblock request with this batch's block shapes drawn."""

    batch_size: int
    grid: tuple[int, ...]
    num_targets: int
    target_shape: tuple[int, ...]
    context_shape: tuple[int, ...]
    min_keep: int
    allow_overlap: bool


def plan_multiblock(batch_size: int, grid: Sequence[int], *, num_targets: int,
                    target_scale: Sequence[float], target_aspect: Sequence[float],
                    context_scale: Sequence[float], context_aspect: Sequence[float],
                    min_keep: int, allow_overlap: bool, temporal_scale: Sequence[float],
                    seed: int, step: int, full_span: bool = True) -> MultiblockPlan:
    """Check a multiblock request and draw its per-batch block shapes.

    ``full_span=False`` keeps every block side below the grid's (I-JEPA's collator).

    Raises:
        ValueError: a bad grid, a range outside ``(0, 1]`` (aspect: ``(0, inf)``), no
            target, or a ``min_keep`` that no target block could ever hold.
    """
    batch_size = check_batch(batch_size)
    grid = check_grid(grid)
    if not 1 <= int(num_targets) <= MAX_TARGETS:
        raise ValueError(f"num_targets must be in [1, {MAX_TARGETS}], got {num_targets}")
    ts = check_range("target_scale", target_scale)
    ta = check_range("target_aspect", target_aspect, hi_open=True)
    cs = check_range("context_scale", context_scale)
    ca = check_range("context_aspect", context_aspect, hi_open=True)
    tt = check_range("temporal_scale", temporal_scale)
    if int(min_keep) < 0:
        raise ValueError(f"min_keep must be >= 0, got {min_keep}")
    n = math.prod(grid)
    smallest, _ = block_extremes(grid, ts, ta, tt, full_span)
    if min_keep > smallest:
        raise ValueError(f"min_keep={min_keep} is unreachable: the smallest target block on grid "
                         f"{grid} holds {smallest} tokens (target_scale={ts})")
    c_small, _ = block_extremes(grid, cs, ca, (1.0, 1.0), full_span)
    if min_keep > c_small:
        raise ValueError(f"min_keep={min_keep} is unreachable: the smallest context block on grid "
                         f"{grid} holds {c_small} tokens (context_scale={cs})")
    if not allow_overlap and n < 2:
        raise ValueError(f"grid {grid} has a single token: context and targets cannot be disjoint")
    return MultiblockPlan(
        batch_size=batch_size, grid=grid, num_targets=int(num_targets),
        target_shape=draw_block_shape(grid, ts, ta, tt, seed=seed, step=step, which=0,
                                      full_span=full_span),
        context_shape=draw_block_shape(grid, cs, ca, (1.0, 1.0), seed=seed, step=step, which=1,
                                       full_span=full_span),
        min_keep=int(min_keep), allow_overlap=bool(allow_overlap))


@dataclass(frozen=True)
class SubsetPlan:
    """A random-subset request: static output widths are the counts for a full sample."""

    batch_size: int
    grid: tuple[int, ...]
    context_ratio: float
    target_ratio: float

    @property
    def num_tokens(self) -> int:
        return math.prod(self.grid)

    def counts(self, valid: int) -> tuple[int, int]:
        """Context and target sizes for a sample with ``valid`` valid tokens.

        Examples:
            >>> SubsetPlan(1, (10,), 0.5, 0.25).counts(10)
            (5, 2)
            >>> SubsetPlan(1, (10,), 0.9, 0.1).counts(1)
            (1, 0)
        """
        kc, kt = math.floor(valid * self.context_ratio), math.floor(valid * self.target_ratio)
        if valid >= 2:
            kc, kt = max(kc, 1), max(kt, 1)
        elif valid == 1:
            kc, kt = 1, 0
        return kc, kt


def plan_random_subset(batch_size: int, grid: Sequence[int] | int, *, context_ratio: float,
                       target_ratio: float) -> SubsetPlan:
    """Check a random-subset request (ratios in ``(0, 1]`` summing to at most 1)."""
    grid = check_grid((grid,) if isinstance(grid, int) else grid, dims=tuple(range(1, 9)))
    cr, tr = float(context_ratio), float(target_ratio)
    for name, r in (("context_ratio", cr), ("target_ratio", tr)):
        if not 0.0 < r <= 1.0:
            raise ValueError(f"{name} must be in (0, 1], got {r}")
    if cr + tr > 1.0:
        raise ValueError(f"context_ratio + target_ratio must be <= 1 (disjoint subsets), got {cr} + {tr}")
    return SubsetPlan(check_batch(batch_size), grid, cr, tr)


@dataclass(frozen=True)
class TemporalPlan:
    """A temporal request: hide ``frames`` frames of a ``T x ...`` grid."""

    batch_size: int
    grid: tuple[int, ...]
    frames: int
    random_span: bool

    @property
    def frame_tokens(self) -> int:
        return math.prod(self.grid[1:])


def plan_temporal(batch_size: int, grid: Sequence[int], *, frames: int, random_span: bool) -> TemporalPlan:
    """Check a temporal request: ``1 <= frames < T`` so context and target are both non-empty."""
    grid = check_grid(grid, dims=(1, 2, 3, 4))
    if not 1 <= int(frames) < grid[0]:
        raise ValueError(f"frames must be in [1, {grid[0] - 1}] for a grid with {grid[0]} frames, "
                         f"got {frames}")
    return TemporalPlan(check_batch(batch_size), grid, int(frames), bool(random_span))


def check_token_valid(token_valid: Tensor | None, batch_size: int, num_tokens: int) -> Tensor | None:
    """``token_valid`` as a ``[B, N]`` bool tensor (or None), with a clear shape error."""
    if token_valid is None:
        return None
    if tuple(token_valid.shape) != (batch_size, num_tokens):
        raise ValueError(f"token_valid must be [{batch_size}, {num_tokens}], got {tuple(token_valid.shape)}")
    return token_valid.to(torch.bool)


def resolve_sample_ids(sample_ids: Tensor | None, batch_size: int, device: torch.device) -> Tensor:
    """Global sample ids ``[B]`` int64 (default ``arange(B)``), on ``device``."""
    if sample_ids is None:
        return torch.arange(batch_size, dtype=torch.int64, device=device)
    sample_ids = torch.as_tensor(sample_ids)
    if sample_ids.shape != (batch_size,) or sample_ids.dtype.is_floating_point:
        raise ValueError(f"sample_ids must be an integer tensor [{batch_size}], got "
                         f"{sample_ids.dtype} {tuple(sample_ids.shape)}")
    return sample_ids.to(device=device, dtype=torch.int64)
