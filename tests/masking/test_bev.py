"""The empty-aware BEV masker: per-group ratios, disjoint sets, counter-based draws."""

from __future__ import annotations

import pytest
import torch

from jepa_core.masking.bev import BevMasker
from jepa_core.tokens import TokenLayout

LAYOUT = TokenLayout((8, 8))


def _empty(b: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.rand(b, 64, generator=g) < torch.linspace(0.2, 0.9, b)[:, None]


def test_bev_masker__splits_empty_and_nonempty_with_same_ratio():
    empty = _empty()
    m = BevMasker(context_ratio=0.5, target_ratio=0.25)(4, LAYOUT, seed=1, step=3, token_empty=empty)
    for i in range(4):
        tgt = m.target_idx[i, 0][m.target_valid[i, 0]]
        ctx = m.context_idx[i][m.context_valid[i]]
        n_e = int(empty[i].sum())
        assert int(empty[i, tgt].sum()) == round(0.25 * n_e)
        assert int((~empty[i, tgt]).sum()) == round(0.25 * (64 - n_e))
        assert int(empty[i, ctx].sum()) == round(0.5 * n_e)
        assert not set(tgt.tolist()) & set(ctx.tolist())
        assert tgt.tolist() == sorted(tgt.tolist()) and ctx.tolist() == sorted(ctx.tolist())


def test_bev_masker__padding_and_validity():
    empty = _empty()
    valid = torch.ones(4, 64, dtype=torch.bool)
    valid[0, 32:] = False
    m = BevMasker(0.5, 0.25)(4, LAYOUT, seed=0, step=0, token_valid=valid, token_empty=empty)
    assert m.target_idx.shape[:2] == (4, 1)
    assert (m.context_idx[~m.context_valid] == 0).all()
    assert (m.target_idx[0, 0][m.target_valid[0, 0]] < 32).all()
    assert (m.context_idx[0][m.context_valid[0]] < 32).all()


def test_bev_masker__counter_based():
    empty = _empty()
    masker = BevMasker(0.5, 0.25)
    ids = torch.tensor([10, 11, 12, 13])
    a = masker(4, LAYOUT, seed=5, step=7, sample_ids=ids, token_empty=empty)
    b = masker(2, LAYOUT, seed=5, step=7, sample_ids=ids[2:], token_empty=empty[2:])
    c = masker(4, LAYOUT, seed=5, step=8, sample_ids=ids, token_empty=empty)
    i2 = a.target_idx[2, 0][a.target_valid[2, 0]]
    assert torch.equal(i2, b.target_idx[0, 0][b.target_valid[0, 0]])
    assert not torch.equal(a.target_idx, c.target_idx)


def test_bev_masker__all_empty_sample_still_gets_context_and_target():
    empty = torch.ones(1, 64, dtype=torch.bool)
    m = BevMasker(0.5, 0.25)(1, LAYOUT, seed=0, step=0, token_empty=empty)
    assert m.target_valid.sum() == 16 and m.context_valid.sum() == 32


def test_bev_masker__bad_ratio():
    with pytest.raises(ValueError, match="target_ratio"):
        BevMasker(0.5, 1.5)


def test_bev_masker__reads_token_types_like_empty_flags():
    empty = _empty()
    masker = BevMasker(0.5, 0.25)
    want = masker(4, LAYOUT, seed=2, step=1, token_empty=empty)
    for types in (empty.long(), empty.long() * 3):  # any non-zero type is the empty group
        got = masker(4, LAYOUT, seed=2, step=1, token_types=types)
        for name in ("context_idx", "context_valid", "target_idx", "target_valid"):
            assert torch.equal(getattr(got, name), getattr(want, name)), name


def _split_squares(m, block: int, grid: tuple[int, int]) -> tuple[int, int]:
    """Squares of the grid whose tokens are all in one role, and squares of mixed roles."""
    h, w = grid
    role = torch.zeros(h * w, dtype=torch.int64)
    role[m.target_idx[0, 0][m.target_valid[0, 0]]] = 1
    role[m.context_idx[0][m.context_valid[0]]] = 2
    squares = role.reshape(h // block, block, w // block, block).permute(0, 2, 1, 3).reshape(-1, block * block)
    mixed = int((squares.min(1).values != squares.max(1).values).sum())
    return len(squares) - mixed, mixed


def test_bev_masker__block_draws_squares_together():
    full = torch.zeros(1, 64, dtype=torch.bool)
    m = BevMasker(0.5, 0.5, block=2)(1, LAYOUT, seed=3, step=1, token_empty=full)
    assert int(m.target_valid.sum()) == 32 and int(m.context_valid.sum()) == 32
    assert _split_squares(m, 2, (8, 8)) == (16, 0)
    tokens = BevMasker(0.5, 0.5)(1, LAYOUT, seed=3, step=1, token_empty=full)
    assert _split_squares(tokens, 2, (8, 8))[1] > 4


def test_bev_masker__block_keeps_the_per_group_ratios():
    empty = _empty()
    m = BevMasker(0.5, 0.25, block=2)(4, LAYOUT, seed=1, step=3, token_empty=empty)
    for i in range(4):
        tgt = m.target_idx[i, 0][m.target_valid[i, 0]]
        n_e = int(empty[i].sum())
        assert int(empty[i, tgt].sum()) == round(0.25 * n_e)
        assert int((~empty[i, tgt]).sum()) == round(0.25 * (64 - n_e))


def test_bev_masker__block_needs_a_2d_grid_and_a_positive_size():
    with pytest.raises(ValueError, match="2-D token grid"):
        BevMasker(0.5, 0.25, block=2)(1, TokenLayout((64,)), seed=0, step=0)
    with pytest.raises(ValueError, match="positive integer"):
        BevMasker(0.5, 0.25, block=0)
