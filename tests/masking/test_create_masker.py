import pytest
import torch

from jepa_core.config import MaskConfig
from jepa_core.masking import MASKERS, Masker, MultiBlockMasker, create_masker
from jepa_core.tokens import TokenLayout
from tests.helpers import check_maskset


@pytest.mark.parametrize("name, grid", [("multiblock", (8, 8)), ("random_subset", (12,)),
                                        ("temporal", (4, 3, 3))])
def test_create_masker__each_name_draws_masks(name, grid):
    masker = create_masker(MaskConfig(name=name, temporal_frames=1))
    assert isinstance(masker, Masker) and isinstance(masker, MASKERS[name])
    layout = TokenLayout(grid)
    masker.check(layout)
    m = masker(3, layout, seed=0, step=1, sample_ids=torch.tensor([4, 5, 6]))
    check_maskset(m, layout.num_tokens)


def test_create_masker__unknown_name_lists_known():
    with pytest.raises(ValueError, match="multiblock"):
        create_masker(MaskConfig(name="nope"))


def test_masker_check__grid_too_small_raises():
    with pytest.raises(ValueError, match="min_keep"):
        MultiBlockMasker(min_keep=4).check(TokenLayout((3, 3)))
    with pytest.raises(ValueError, match="frames"):
        create_masker(MaskConfig(name="temporal", temporal_frames=4)).check(TokenLayout((4, 2)))
