"""Local attention windows: the grid mask, and an encoder whose tokens only see their window."""

import itertools

import pytest
import torch

from jepa_core.config import ModelConfig
from jepa_core.models import Encoder
from jepa_core.models.windows import grid_coords, window_mask
from tests.toy_modality import ToyTokenizer


def test_grid_coords__row_major_round_trip():
    grid = (2, 3, 4)
    expect = torch.tensor(list(itertools.product(*(range(g) for g in grid))))
    torch.testing.assert_close(grid_coords(torch.arange(24), grid), expect)


def test_window_mask__chebyshev_distance_on_a_2d_grid():
    idx = torch.randperm(30, generator=torch.Generator().manual_seed(0))[:12][None]
    rows, cols = idx[0] // 6, idx[0] % 6
    dist = torch.maximum((rows[:, None] - rows[None]).abs(), (cols[:, None] - cols[None]).abs())
    for radius in (0, 1, 2):
        torch.testing.assert_close(window_mask(idx, (5, 6), radius)[0], dist <= radius)


def test_window_mask__negative_radius_raises():
    with pytest.raises(ValueError, match="radius"):
        window_mask(torch.zeros(1, 2, dtype=torch.long), (4,), -1)


def _encoder(depth: int, window: int) -> Encoder:
    torch.manual_seed(0)
    cfg = ModelConfig(dim=16, depth=depth, heads=2, attention_window=window)
    return Encoder(ToyTokenizer(8, 16), cfg).eval()


def _changed(enc: Encoder, at: int, idx=None) -> list[int]:
    """Which outputs move when the input feature ``at`` is perturbed."""
    x = torch.randn(1, 8)
    y = x.clone()
    y[0, at] += 5.0
    if idx is None:
        a, b = enc.tokenize(x), enc.tokenize(y)
        return (enc(a) - enc(b)).abs().amax(-1)[0].gt(1e-6).nonzero().flatten().tolist()
    a = enc(enc.tokenize(x), idx)
    b = enc(enc.tokenize(y), idx)
    return idx[0][(a - b).abs().amax(-1)[0].gt(1e-6)].tolist()


def test_encoder__window_bounds_the_receptive_field():
    assert _changed(_encoder(depth=1, window=1), at=5) == [4, 5, 6]
    assert _changed(_encoder(depth=2, window=1), at=5) == [3, 4, 5, 6, 7]
    assert _changed(_encoder(depth=1, window=0), at=5) == list(range(8))  # 0: global attention


def test_encoder__window_of_a_context_subset_uses_grid_positions():
    # tokens 1 and 7 are neighbours in the subset's order but 6 steps apart on the grid
    idx = torch.tensor([[0, 1, 7]])
    assert _changed(_encoder(depth=1, window=1), at=1, idx=idx) == [0, 1]


def test_encoder__negative_window_raises():
    with pytest.raises(ValueError, match="attention_window"):
        _encoder(depth=1, window=-1)
