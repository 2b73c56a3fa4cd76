"""The vjepa masker: V-JEPA's short- and long-range families on 3-D grids."""

from __future__ import annotations

import pytest
import torch

from jepa_core.masking import create_masker
from jepa_core.masking.vjepa import VJepaMasker, mask_to_indices
from jepa_core.ops.masking import multiblock_masks
from jepa_core.tokens import TokenLayout

GRID = TokenLayout((4, 8, 8))


def _sets(m, n):
    ctx = torch.zeros(m.context_idx.shape[0], n, dtype=torch.bool)
    tgt = torch.zeros_like(ctx)
    for b in range(len(ctx)):
        ctx[b, m.context_idx[b][m.context_valid[b]]] = True
        tgt[b, m.target_idx[b, 0][m.target_valid[b, 0]]] = True
    return ctx, tgt


def test_vjepa__registered_with_v_jepa_defaults():
    masker = create_masker({"name": "vjepa"})
    assert isinstance(masker, VJepaMasker)
    assert (masker.short_blocks, masker.short_scale, masker.long_blocks, masker.long_scale) == \
        (8, (0.15, 0.15), 2, (0.7, 0.7))
    assert masker.aspect == (0.75, 1.5) and masker.temporal_scale == (1.0, 1.0)


def test_vjepa__context_and_target_partition_the_valid_tokens():
    valid = torch.ones(16, GRID.num_tokens, dtype=torch.bool)
    valid[3, 128:] = False  # a padded short clip: its last two time steps
    m = VJepaMasker()(16, GRID, seed=0, step=2, token_valid=valid)
    ctx, tgt = _sets(m, GRID.num_tokens)
    assert m.num_targets == 1 and not (ctx & tgt).any()
    assert torch.equal(ctx | tgt, valid) and bool((ctx.sum(1) >= 4).all())
    # full temporal extent: a target token at (t, h, w) means the whole (h, w) column is target
    cols = tgt[torch.arange(16) != 3].view(-1, 4, 64)
    assert torch.equal(cols.any(1), cols.all(1))


def test_vjepa__each_family_is_the_union_of_its_multiblock_targets():
    ids = torch.arange(32)
    m = VJepaMasker()(32, GRID, seed=0, step=0, sample_ids=ids)
    _, tgt = _sets(m, GRID.num_tokens)
    unions = []
    for which, (blocks, scale, seed) in enumerate([(8, 0.15, 0), (2, 0.7, 0x5DEECE66D)]):
        mb = multiblock_masks(32, GRID.grid, num_targets=blocks, target_scale=(scale, scale),
                              target_aspect=(0.75, 1.5), context_scale=(1.0, 1.0),
                              context_aspect=(1.0, 1.0), min_keep=1, seed=seed, step=0, sample_ids=ids)
        u = torch.zeros(32, GRID.num_tokens, dtype=torch.bool)
        for b in range(32):
            u[b, mb.target_idx[b][mb.target_valid[b]]] = True
        unions.append(u)
    is_short = (tgt == unions[0]).all(1)
    is_long = (tgt == unions[1]).all(1)
    assert bool((is_short | is_long).all()) and is_short.any() and is_long.any()
    assert tgt[is_long & ~is_short].sum(1).float().mean() > tgt[is_short & ~is_long].sum(1).float().mean()


def test_vjepa__keyed_by_sample_id_not_batch_position():
    m = VJepaMasker()
    a = m(4, GRID, seed=1, step=3, sample_ids=torch.tensor([10, 11, 12, 13]))
    b = m(2, GRID, seed=1, step=3, sample_ids=torch.tensor([12, 13]))
    assert torch.equal(_sets(a, 256)[1][2:], _sets(b, 256)[1])


def test_vjepa__grid_too_small_is_refused():
    with pytest.raises(ValueError, match="min_context"):
        VJepaMasker(min_context=8).check(TokenLayout((1, 2, 2)))


def test_vjepa__mask_to_indices_sorted_and_padded():
    idx, ok = mask_to_indices(torch.tensor([[False, True, True, False], [True, False, False, False]]))
    assert idx.tolist() == [[1, 2], [0, 0]] and ok.tolist() == [[True, True], [True, False]]
