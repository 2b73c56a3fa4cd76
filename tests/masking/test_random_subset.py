import pytest
import torch

from tests.helpers import assert_masksets_equal, check_maskset, reference_masking

random_subset_masks = reference_masking().random_subset_masks


def test_random_subset__counts_and_disjoint():
    m = random_subset_masks(16, 20, context_ratio=0.5, target_ratio=0.25, seed=0)
    check_maskset(m, 20)
    assert m.target_idx.shape == (16, 1, 5)
    assert m.context_valid.sum(-1).tolist() == [10] * 16


def test_random_subset__ratios_of_valid_tokens_never_invalid():
    valid = torch.ones(4, 12, dtype=torch.bool)
    valid[0, 6:] = False
    valid[1, 2:] = False
    valid[2, 1:] = False
    valid[3] = False
    m = random_subset_masks(4, (3, 4), context_ratio=0.5, target_ratio=0.5, seed=1, token_valid=valid)
    check_maskset(m, 12, token_valid=valid)
    assert m.context_valid.sum(-1).tolist() == [3, 1, 1, 0]
    assert m.target_valid.sum(-1).flatten().tolist() == [3, 1, 0, 0]


def test_random_subset__uniform_over_tokens():
    hits = torch.zeros(10)
    for step in range(40):
        m = random_subset_masks(50, 10, context_ratio=0.3, target_ratio=0.2, seed=2, step=step)
        hits += torch.bincount(m.target_idx[m.target_valid], minlength=10)
    assert float((hits / hits.mean() - 1).abs().max()) < 0.15


def test_random_subset__deterministic_per_sample_id():
    ids = torch.tensor([5, 9])
    a = random_subset_masks(2, 16, context_ratio=0.5, target_ratio=0.25, seed=4, step=1, sample_ids=ids)
    b = random_subset_masks(1, 16, context_ratio=0.5, target_ratio=0.25, seed=4, step=1, sample_ids=ids[1:])
    assert torch.equal(a.context_idx[1:], b.context_idx)
    assert_masksets_equal(a, random_subset_masks(2, 16, context_ratio=0.5, target_ratio=0.25, seed=4,
                                                 step=1, sample_ids=ids))


@pytest.mark.parametrize("cr, tr", [(0.0, 0.5), (0.5, 1.5), (0.7, 0.4)])
def test_random_subset__bad_ratios_raise(cr, tr):
    with pytest.raises(ValueError, match="ratio"):
        random_subset_masks(2, 10, context_ratio=cr, target_ratio=tr, seed=0)
