import math

import pytest
import torch

from jepa_core.ops.masking.blocks import draw_block_shape
from tests.helpers import assert_masksets_equal, check_maskset, reference_masking

multiblock_masks = reference_masking().multiblock_masks

KW = dict(num_targets=4, target_scale=(0.15, 0.2), target_aspect=(0.75, 1.5),
          context_scale=(0.85, 1.0), context_aspect=(1.0, 1.0), min_keep=4)


def _box(idx, valid, grid):
    """Extent of the index set along each grid axis."""
    coords = torch.stack(torch.unravel_index(idx[valid], grid), -1)
    return tuple((coords.max(0).values - coords.min(0).values + 1).tolist())


@pytest.mark.parametrize("grid", [(40,), (14, 14), (4, 8, 8)])
def test_multiblock__well_formed_and_disjoint(grid):
    m = multiblock_masks(16, grid, seed=1, step=3, temporal_scale=(0.5, 1.0), **KW)
    n = math.prod(grid)
    check_maskset(m, n)
    assert m.target_idx.shape[:2] == (16, 4)
    assert bool((m.context_valid.sum(-1) >= KW["min_keep"]).all())


@pytest.mark.parametrize("grid", [(40,), (14, 14), (4, 8, 8)])
def test_multiblock__targets_are_boxes_of_the_batch_shape(grid):
    for step in range(5):
        shape = draw_block_shape(grid, KW["target_scale"], KW["target_aspect"], (0.5, 1.0),
                                 seed=2, step=step, which=0)
        m = multiblock_masks(4, grid, seed=2, step=step, temporal_scale=(0.5, 1.0), **KW)
        assert m.target_idx.shape[-1] == math.prod(shape)
        for b in range(4):
            for j in range(4):
                assert _box(m.target_idx[b, j], m.target_valid[b, j], grid) == shape
        n_spatial = math.prod(grid[-2:]) if len(grid) > 1 else grid[0]
        spatial = math.prod(shape[-2:]) if len(grid) > 1 else shape[0]
        assert 0.15 * n_spatial - 2 * max(grid) <= spatial <= 0.2 * n_spatial + 2 * max(grid)


def test_multiblock__same_seed_same_masks_other_seed_differs():
    a = multiblock_masks(8, (14, 14), seed=5, step=2, **KW)
    assert_masksets_equal(a, multiblock_masks(8, (14, 14), seed=5, step=2, **KW))
    b = multiblock_masks(8, (14, 14), seed=6, step=2, **KW)
    assert not torch.equal(a.target_idx, b.target_idx) or a.target_idx.shape != b.target_idx.shape


def test_multiblock__sample_masks_depend_on_global_id_only():
    ids = torch.tensor([10, 11, 12, 13])
    full = multiblock_masks(4, (14, 14), seed=0, step=7, sample_ids=ids, **KW)
    # Rank 1 of a 2-rank run draws samples 12 and 13 alone: same masks.
    half = multiblock_masks(2, (14, 14), seed=0, step=7, sample_ids=ids[2:], **KW)
    kt = half.target_valid.shape[-1]
    assert torch.equal(full.target_idx[2:, :, :kt], half.target_idx)
    ctx = full.context_idx[2:][full.context_valid[2:]]
    assert torch.equal(ctx, half.context_idx[half.context_valid])


def test_multiblock__token_valid_is_respected():
    g = torch.Generator().manual_seed(0)
    valid = torch.rand(8, 196, generator=g) > 0.3
    m = multiblock_masks(8, (14, 14), seed=0, token_valid=valid, **KW)
    check_maskset(m, 196, token_valid=valid)


def test_multiblock__allow_overlap_keeps_full_context_block():
    m = multiblock_masks(4, (14, 14), seed=0, allow_overlap=True,
                         **{**KW, "context_scale": (1.0, 1.0)})
    assert bool((m.context_valid.sum(-1) == 196).all())


def test_multiblock__every_cell_is_covered_without_positional_bias():
    ctx_hits = torch.zeros(196)
    tgt_hits = torch.zeros(196)
    for step in range(25):
        m = multiblock_masks(32, (14, 14), seed=3, step=step, **KW)
        ctx_hits += torch.bincount(m.context_idx[m.context_valid], minlength=196)
        tgt_hits += torch.bincount(m.target_idx[m.target_valid], minlength=196)
    assert bool((ctx_hits > 0).all()) and bool((tgt_hits > 0).all())
    # The last row and column are targets too (I-JEPA's exclusive randint never reaches them).
    grid = tgt_hits.view(14, 14)
    assert float(grid[-1].sum()) > 0.25 * float(grid[0].sum())
    assert float(grid[:, -1].sum()) > 0.25 * float(grid[:, 0].sum())


@pytest.mark.parametrize("bad, match", [
    (dict(target_scale=(0.2, 1.5)), "target_scale"),
    (dict(target_scale=(0.0, 0.2)), "target_scale"),
    (dict(context_aspect=(2.0, 1.0)), "context_aspect"),
    (dict(num_targets=0), "num_targets"),
    (dict(min_keep=500), "min_keep"),
])
def test_multiblock__impossible_requests_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        multiblock_masks(2, (14, 14), seed=0, **{**KW, **bad})


def test_multiblock__bad_grid_and_token_valid_raise():
    with pytest.raises(ValueError, match="grid"):
        multiblock_masks(2, (2, 2, 2, 2), seed=0, **KW)
    with pytest.raises(ValueError, match="token_valid"):
        multiblock_masks(2, (14, 14), seed=0, token_valid=torch.ones(2, 5, dtype=torch.bool), **KW)


@pytest.mark.parametrize("grid", [(8, 8), (14, 14), (2, 8, 8), (40,)])
def test_multiblock__full_span_false_keeps_sides_below_the_grid(grid):
    wide = dict(KW, context_scale=(0.95, 1.0))
    spatial = grid[-2:] if len(grid) > 1 else grid
    for step in range(6):
        shape = draw_block_shape(grid, wide["context_scale"], (1.0, 1.0), (1.0, 1.0), seed=0,
                                 step=step, which=1, full_span=False)
        assert all(s < g for s, g in zip(shape[-len(spatial):], spatial))
        m = multiblock_masks(4, grid, seed=0, step=step, full_span=False, **wide)
        for b in range(4):
            box = _box(m.context_idx[b], m.context_valid[b], grid)
            assert all(s < g for s, g in zip(box[-len(spatial):], spatial))
    # the default still lets a near-full block cover the whole grid
    assert draw_block_shape((8, 8), (1.0, 1.0), (1.0, 1.0), (1.0, 1.0), seed=0, step=0, which=1) == (8, 8)
