"""Fixed N-D sine-cosine position embeddings for tokens on a grid."""

from __future__ import annotations

import functools

import torch
from torch import Tensor


def _sincos_1d(coords: Tensor, dim: int) -> Tensor:
    half = dim // 2
    freqs = 1.0 / (10000.0 ** (torch.arange(half, dtype=torch.float64) / max(half, 1)))
    angles = coords.double()[:, None] * freqs[None]
    out = torch.cat([angles.sin(), angles.cos()], dim=1)
    if dim % 2:
        out = torch.cat([out, torch.zeros(len(coords), 1, dtype=out.dtype)], dim=1)
    return out


@functools.lru_cache(maxsize=32)
def _table(grid: tuple[int, ...], dim: int) -> Tensor:
    axes = len(grid)
    base = (dim // axes) // 2 * 2
    sizes = [base] * (axes - 1) + [dim - base * (axes - 1)]
    mesh = torch.meshgrid(*[torch.arange(g) for g in grid], indexing="ij")
    parts = [_sincos_1d(m.reshape(-1), d) for m, d in zip(mesh, sizes)]
    return torch.cat(parts, dim=1).float()


def sincos_positions(grid: tuple[int, ...], dim: int, device: torch.device | str | None = None,
                     dtype: torch.dtype = torch.float32) -> Tensor:
    """Position embeddings for every cell of ``grid`` in row-major order.

    Each grid axis gets an equal, even share of the channels (the last takes the rest),
    filled with sines and cosines of its coordinate at geometric frequencies, as in
    I-JEPA / MAE generalized to any number of axes.

    Returns:
        ``[prod(grid), dim]``.

    Examples:
        >>> sincos_positions((2, 3), 8).shape
        torch.Size([6, 8])
    """
    if dim < 2 * len(grid):
        raise ValueError(f"dim {dim} is too small for a {len(grid)}-D position embedding")
    return _table(tuple(grid), dim).to(device=device, dtype=dtype)
