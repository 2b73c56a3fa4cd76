"""Sine-cosine positions: the grid table and continuous coordinates agree on grid cells."""

from __future__ import annotations

import pytest
import torch

from jepa_core.models import resize_positions, sincos_coords, sincos_positions


def _grid_coords(grid: tuple[int, ...]) -> torch.Tensor:
    mesh = torch.meshgrid(*[torch.arange(g) for g in grid], indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=-1)


@pytest.mark.parametrize("grid, dim", [((7,), 16), ((3, 4), 12), ((2, 3, 4), 24), ((3, 5), 11)])
def test_sincos_coords__equals_grid_table_on_cells(grid, dim):
    coords = _grid_coords(grid)
    table = sincos_positions(grid, dim)
    assert torch.equal(sincos_coords(coords.double(), dim, torch.float32), table)
    torch.testing.assert_close(sincos_coords(coords.float(), dim), table, rtol=0, atol=2e-6)


def test_sincos_coords__any_leading_shape_and_dtype():
    c = torch.rand(2, 3, 5, 2) * 10
    out = sincos_coords(c, 8, torch.bfloat16)
    assert out.shape == (2, 3, 5, 8) and out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), sincos_coords(c.reshape(-1, 2), 8).view(2, 3, 5, 8),
                               atol=1e-2, rtol=0)


def test_sincos_coords__continuous_and_distinct():
    t = torch.linspace(0, 20, 401)[:, None]
    pos = sincos_coords(t, 32)
    assert pos.abs().max() <= 1.0
    steps = (pos[1:] - pos[:-1]).norm(dim=1)
    assert steps.max() < 0.3  # a small move in time is a small move in the embedding
    assert torch.unique(pos, dim=0).shape[0] == 401
    # nearby times are closer than far ones
    assert (pos[200] - pos[201]).norm() < (pos[200] - pos[300]).norm()


def test_sincos_coords__too_small_dim():
    with pytest.raises(ValueError, match="too small"):
        sincos_coords(torch.zeros(3, 3), 4)


def _reference_resize(table: torch.Tensor, grid: tuple[int, int], new: tuple[int, int]) -> torch.Tensor:
    """The 2-D table as an image ``[1, D, H, W]``, bicubic to ``new``, back to rows."""
    image = table.reshape(*grid, -1).permute(2, 0, 1)[None]
    out = torch.nn.functional.interpolate(image, size=new, mode="bicubic", align_corners=False)
    return out[0].permute(1, 2, 0).reshape(new[0] * new[1], -1)


def test_resize_positions__same_grid_is_the_table_itself():
    table = sincos_positions((8, 8), 32)
    assert resize_positions(table, (8, 8), (8, 8)) is table


@pytest.mark.parametrize("new", [(16, 16), (4, 4), (8, 12)])
def test_resize_positions__bicubic_like_torch_interpolate(new):
    table = sincos_positions((8, 8), 32)
    out = resize_positions(table, (8, 8), new)
    assert out.shape == (new[0] * new[1], 32)
    torch.testing.assert_close(out, _reference_resize(table, (8, 8), new), rtol=0, atol=1e-6)


def test_resize_positions__1d_and_3d_and_errors():
    assert resize_positions(sincos_positions((5,), 8), (5,), (10,)).shape == (10, 8)
    assert resize_positions(sincos_positions((2, 3, 4), 24), (2, 3, 4), (2, 6, 8)).shape == (96, 24)
    with pytest.raises(ValueError, match="same number of axes"):
        resize_positions(sincos_positions((4, 4), 8), (4, 4), (16,))
    with pytest.raises(ValueError, match="is not the grid"):
        resize_positions(sincos_positions((4, 4), 8), (4, 5), (8, 8))
