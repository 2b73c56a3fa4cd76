"""Fixed sine-cosine position embeddings: N-D for tokens on a grid, continuous for coordinates."""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
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


#: ``torch.nn.functional.interpolate`` mode per number of grid axes.
_RESIZE_MODES = {1: "linear", 2: "bicubic", 3: "trilinear"}


def resize_positions(table: Tensor, grid: tuple[int, ...], new_grid: tuple[int, ...]) -> Tensor:
    """A grid's position table resampled to another grid over the same extent.

    When a ViT trained on one grid embeds an image at another resolution, each token of
    the new grid takes the interpolated embedding of the place it covers on the training
    grid (bicubic for a 2-D grid, as ViT, DeiT, DINO and I-JEPA do when fine-tuning or
    evaluating at another resolution; linear in 1-D, trilinear in 3-D), so the encoder
    sees positions like those it was trained on rather than new ones. The same grid gives
    ``table`` itself. Computed in float32, returned in ``table``'s dtype.

    Args:
        table: the row-major table of ``grid``, as :func:`sincos_positions` builds it.
        grid: the grid ``table`` belongs to.
        new_grid: the grid to resample to, with as many axes.

    Returns:
        ``[prod(new_grid), D]``.

    Shapes:
        table ``[prod(grid), D]``.

    Examples:
        >>> resize_positions(sincos_positions((4, 4), 8), (4, 4), (8, 6)).shape
        torch.Size([48, 8])
    """
    grid, new_grid = tuple(grid), tuple(new_grid)
    if len(new_grid) != len(grid) or len(grid) not in _RESIZE_MODES:
        raise ValueError(f"cannot resample positions of the {len(grid)}-D grid {grid} to the grid "
                         f"{new_grid}: 1-, 2- or 3-D grids with the same number of axes only")
    if table.shape[0] != torch.Size(grid).numel():
        raise ValueError(f"a position table of {table.shape[0]} rows is not the grid {grid}")
    if new_grid == grid:
        return table
    dim = table.shape[1]
    volume = table.float().T.reshape(1, dim, *grid)
    out = F.interpolate(volume, size=new_grid, mode=_RESIZE_MODES[len(grid)], align_corners=False)
    return out.reshape(dim, -1).T.to(table.dtype).contiguous()


def _axis_channels(axes: int, dim: int) -> list[int]:
    """Channels per axis: an equal, even share each, the last axis takes the rest."""
    base = (dim // axes) // 2 * 2
    return [base] * (axes - 1) + [dim - base * (axes - 1)]


def sincos_coords(coords: Tensor, dim: int, dtype: torch.dtype | None = None) -> Tensor:
    """Continuous sine-cosine embeddings of per-token coordinates.

    The same channel split and frequencies as :func:`sincos_positions`, evaluated at any
    real coordinate: at the integer grid coordinates of a cell it gives that cell's grid
    embedding. So a coordinate unit should be about one token spacing (a tokenizer
    placing events in time might use seconds divided by the typical gap). Computed in
    float32 (float64 for float64 coordinates).

    Args:
        coords: per-token coordinates, any leading shape, ``C`` axes last.
        dim: embedding width, at least ``2 * C``.
        dtype: output dtype (default: that of the computation).

    Returns:
        ``[..., dim]``.

    Examples:
        >>> c = torch.tensor([[0.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
        >>> torch.equal(sincos_coords(c, 8, torch.float32), sincos_positions((2, 3), 8)[[1, 5]])
        True
    """
    axes = coords.shape[-1]
    if axes < 1:
        raise ValueError(f"coords need at least one axis, got shape {tuple(coords.shape)}")
    if dim < 2 * axes:
        raise ValueError(f"dim {dim} is too small for a {axes}-D coordinate embedding")
    work = torch.float64 if coords.dtype == torch.float64 else torch.float32
    coords = coords.to(work)
    parts = []
    for axis, d in enumerate(_axis_channels(axes, dim)):
        half = d // 2
        freqs = 1.0 / (10000.0 ** (torch.arange(half, dtype=torch.float64, device=coords.device)
                                   / max(half, 1)))
        angles = coords[..., axis, None] * freqs.to(work)
        parts += [angles.sin(), angles.cos()]
        if d % 2:
            parts.append(angles.new_zeros(*angles.shape[:-1], 1))
    out = torch.cat(parts, dim=-1)
    return out if dtype is None else out.to(dtype)
