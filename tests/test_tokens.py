"""TokenBatch: grid and grid-free batches, coordinates, types, conditions, bad input."""

from __future__ import annotations

import pytest
import torch

from jepa_core.tokens import TokenBatch, TokenLayout


def test_token_batch__grid_defaults_to_all_valid():
    tb = TokenBatch(torch.zeros(2, 6, 4), TokenLayout((2, 3)))
    assert tb.valid.all() and tb.valid.shape == (2, 6)
    assert tb.has_grid and tb.mask_layout == TokenLayout((2, 3))
    assert tb.coords is None and tb.types is None and tb.conditions is None


def test_token_batch__grid_must_be_filled():
    with pytest.raises(ValueError, match="do not fill the grid"):
        TokenBatch(torch.zeros(2, 5, 4), TokenLayout((2, 3)))


def test_token_batch__no_grid_masks_on_its_own_length():
    a = TokenBatch(torch.zeros(2, 5, 4), None, coords=torch.rand(2, 5, 2))
    b = TokenBatch(torch.zeros(2, 9, 4), None, coords=torch.rand(2, 9, 2))
    assert not a.has_grid and a.mask_layout == TokenLayout((5,)) and b.mask_layout == TokenLayout((9,))


def test_token_batch__no_grid_needs_coords():
    with pytest.raises(ValueError, match="needs coords"):
        TokenBatch(torch.zeros(2, 5, 4), None)


def test_token_batch__no_grid_needs_a_token():
    with pytest.raises(ValueError, match="at least one token"):
        TokenBatch(torch.zeros(2, 0, 4), None, coords=torch.zeros(2, 0, 1))


@pytest.mark.parametrize("shape", [(2, 5), (2, 4, 1), (3, 5, 1), (2, 5, 0)])
def test_token_batch__coords_of_the_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"coords must be \[2, 5, C\]"):
        TokenBatch(torch.zeros(2, 5, 4), None, coords=torch.zeros(shape))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_token_batch__non_finite_coords(bad):
    coords = torch.rand(2, 5, 1)
    coords[1, 3, 0] = bad
    with pytest.raises(ValueError, match="coords holds NaN or inf"):
        TokenBatch(torch.zeros(2, 5, 4), None, coords=coords)
    with pytest.raises(ValueError, match="coords holds NaN or inf"):  # also beside a grid
        TokenBatch(torch.zeros(2, 5, 4), TokenLayout((5,)), coords=coords)


def test_token_batch__integer_coords_refused():
    with pytest.raises(ValueError, match="coords must be a floating tensor"):
        TokenBatch(torch.zeros(2, 5, 4), None, coords=torch.zeros(2, 5, 1, dtype=torch.long))


def test_token_batch__types_checked():
    x, grid = torch.zeros(2, 4, 3), TokenLayout((4,))
    assert TokenBatch(x, grid, types=torch.tensor([[0, 1, 2, 0]] * 2)).types.shape == (2, 4)
    with pytest.raises(ValueError, match=r"types must be \[2, 4\]"):
        TokenBatch(x, grid, types=torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="integer tensor"):
        TokenBatch(x, grid, types=torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=">= 0"):
        TokenBatch(x, grid, types=torch.tensor([[0, -1, 0, 0]] * 2))


def test_token_batch__conditions_per_sample_or_per_frame():
    x, grid = torch.zeros(2, 4, 3), TokenLayout((2, 2))
    assert TokenBatch(x, grid, conditions=torch.zeros(2, 5)).conditions.shape == (2, 5)
    assert TokenBatch(x, grid, conditions=torch.zeros(2, 2, 5)).conditions.shape == (2, 2, 5)


@pytest.mark.parametrize("shape", [(3, 5), (1, 2, 5), (5,), (2, 1, 1, 5)])
def test_token_batch__conditions_batch_mismatch(shape):
    with pytest.raises(ValueError, match=r"conditions must be \[B, A\] or \[B, T, A\] with B = 2"):
        TokenBatch(torch.zeros(2, 4, 3), TokenLayout((4,)), conditions=torch.zeros(shape))


def test_token_batch__non_finite_conditions():
    cond = torch.zeros(2, 3)
    cond[0, 1] = float("nan")
    with pytest.raises(ValueError, match="conditions holds NaN or inf"):
        TokenBatch(torch.zeros(2, 4, 3), TokenLayout((4,)), conditions=cond)


def test_token_batch__dead_fields_removed():
    assert not hasattr(TokenBatch, "with_tokens")
    assert "extras" not in TokenBatch.__dataclass_fields__ and "empty" not in TokenBatch.__dataclass_fields__
