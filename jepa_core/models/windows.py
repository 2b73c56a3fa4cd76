"""Local attention windows on the token grid.

A window of radius ``r`` lets each token attend only to the tokens within ``r`` grid
steps along every axis (Chebyshev distance), as a convolution's receptive field does.
It gives the encoder the local inductive bias of a convolutional BEV backbone
(AD-L-JEPA pretrains sparse-convolution backbones) while keeping the transformer's
ragged context sets.
"""

from __future__ import annotations

import torch
from torch import Tensor


def grid_coords(idx: Tensor, grid: tuple[int, ...]) -> Tensor:
    """Row-major flat token indices ``[..., K]`` to grid coordinates ``[..., K, len(grid)]``."""
    coords = []
    for size in reversed(grid):
        coords.append(idx % size)
        idx = torch.div(idx, size, rounding_mode="floor")
    return torch.stack(coords[::-1], dim=-1)


def window_mask(idx: Tensor, grid: tuple[int, ...], radius: int) -> Tensor:
    """Which tokens of a set lie within ``radius`` grid steps of each other.

    Args:
        idx: flat grid indices of the tokens of each sample ``[B, K]``.
        grid: the token grid (``TokenLayout.grid``).
        radius: the Chebyshev radius of the window, >= 0.

    Returns:
        ``[B, K, K]`` bool, ``True`` where token ``j`` is in the window of token ``i``.

    Examples:
        >>> window_mask(torch.tensor([[0, 1, 5, 15]]), (4, 4), 1)[0].int()
        tensor([[1, 1, 1, 0],
                [1, 1, 1, 0],
                [1, 1, 1, 0],
                [0, 0, 0, 1]], dtype=torch.int32)
    """
    if radius < 0:
        raise ValueError(f"the window radius must be >= 0, got {radius}")
    c = grid_coords(idx, grid)
    near = torch.ones(*idx.shape, idx.shape[-1], dtype=torch.bool, device=idx.device)
    for axis in range(len(grid)):  # one [B, K, K] comparison at a time, not [B, K, K, axes]
        near &= (c[:, :, None, axis] - c[:, None, :, axis]).abs() <= radius
    return near
