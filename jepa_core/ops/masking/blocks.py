"""Argument checks and per-batch block shapes shared by the reference and the compiled ops.

The block *shape* of a multiblock mask is drawn once per batch, keyed by ``(seed, step)``
only (so every rank of a data-parallel run draws the same shape); block *positions* are
drawn per sample inside the op. Scale and aspect ratio are drawn independently, both
range bounds inclusive.
"""

from __future__ import annotations

import math
from typing import Sequence

from .philox import TAG_BLOCK_SIZE, philox4x32_scalar, seed_key, uniform01

#: Candidate positions tried per block; the first that keeps ``min_keep`` tokens wins,
#: else the one keeping most (no unbounded retry loop, the same in every backend).
ATTEMPTS = 8

#: Most target blocks per sample (the compiled kernels keep the chosen blocks on the stack).
MAX_TARGETS = 32


def check_grid(grid: Sequence[int], dims: tuple[int, ...] = (1, 2, 3)) -> tuple[int, ...]:
    """``grid`` as a tuple of positive ints with an allowed number of dimensions."""
    grid = tuple(int(g) for g in grid)
    if len(grid) not in dims or any(g < 1 for g in grid):
        raise ValueError(f"grid must have {'/'.join(map(str, dims))} positive sizes, got {grid}")
    return grid


def check_range(name: str, rng: Sequence[float], lo: float = 0.0, hi: float = 1.0,
                hi_open: bool = False) -> tuple[float, float]:
    """``rng`` as a ``(low, high)`` float pair inside ``(lo, hi]`` (``(lo, inf)`` if open)."""
    if len(rng) != 2:
        raise ValueError(f"{name} must be a (low, high) pair, got {rng!r}")
    a, b = float(rng[0]), float(rng[1])
    top_ok = (b < math.inf) if hi_open else (b <= hi)
    if not (lo < a <= b and top_ok):
        bound = f"({lo}, inf)" if hi_open else f"({lo}, {hi}]"
        raise ValueError(f"{name} must satisfy low <= high inside {bound}, got {rng!r}")
    return a, b


def check_batch(batch_size: int) -> int:
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return int(batch_size)


def _round(x: float) -> int:
    return int(math.floor(x + 0.5))


def block_shape(grid: tuple[int, ...], scale: float, aspect: float, time_scale: float,
                full_span: bool = True) -> tuple[int, ...]:
    """The block shape for one (scale, aspect, temporal scale) draw, clamped to the grid.

    1-D: ``round(L * scale)`` tokens. 2-D: ``scale * H * W`` tokens with ``h / w = aspect``.
    3-D: ``round(T * time_scale)`` frames of the 2-D block on ``(H, W)``. With
    ``full_span=False`` a block's spatial sides (1-D: its length) are clamped to one less
    than the grid's, as I-JEPA's mask collator does (``h < H``, ``w < W``); a grid side of
    one token still gives a side of one.

    Examples:
        >>> block_shape((14, 14), 0.25, 1.0, 1.0)
        (7, 7)
        >>> block_shape((8, 14, 14), 0.25, 1.0, 0.5)
        (4, 7, 7)
        >>> block_shape((14, 14), 1.0, 1.0, 1.0), block_shape((14, 14), 1.0, 1.0, 1.0, full_span=False)
        ((14, 14), (13, 13))
    """
    def side(n: int) -> int:
        return n if full_span else max(1, n - 1)

    if len(grid) == 1:
        return (min(side(grid[0]), max(1, _round(grid[0] * scale))),)
    if len(grid) == 3:
        t = min(grid[0], max(1, _round(grid[0] * time_scale)))
        return (t,) + block_shape(grid[1:], scale, aspect, 1.0, full_span)
    keep = grid[0] * grid[1] * scale
    h = min(side(grid[0]), max(1, _round(math.sqrt(keep * aspect))))
    w = min(side(grid[1]), max(1, _round(math.sqrt(keep / aspect))))
    return h, w


def draw_block_shape(grid: tuple[int, ...], scale: tuple[float, float], aspect: tuple[float, float],
                     time_scale: tuple[float, float], *, seed: int, step: int, which: int,
                     full_span: bool = True) -> tuple[int, ...]:
    """The block shape of batch ``step``: ``which`` is 0 for targets, 1 for the context.

    Examples:
        >>> draw_block_shape((14, 14), (0.15, 0.2), (0.75, 1.5), (1.0, 1.0), seed=0, step=0, which=0)
        (7, 5)
    """
    words = philox4x32_scalar((which, step, 0, TAG_BLOCK_SIZE), seed_key(seed))
    u_s, u_a, u_t = (uniform01(w) for w in words[:3])
    s = scale[0] + u_s * (scale[1] - scale[0])
    # Aspect ratio is drawn log-uniformly so that h/w and w/h are equally likely.
    a = math.exp(math.log(aspect[0]) + u_a * (math.log(aspect[1]) - math.log(aspect[0])))
    t = time_scale[0] + u_t * (time_scale[1] - time_scale[0])
    return block_shape(grid, s, a, t, full_span)


def block_extremes(grid: tuple[int, ...], scale: tuple[float, float], aspect: tuple[float, float],
                   time_scale: tuple[float, float], full_span: bool = True) -> tuple[int, int]:
    """Fewest and most tokens a block drawn from these ranges can hold (corner draws)."""
    vols = [math.prod(block_shape(grid, s, a, t, full_span)) for s in scale for a in aspect
            for t in time_scale]
    return min(vols), max(vols)
