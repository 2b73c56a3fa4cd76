import pytest
import torch

from jepa_core.config import ConfigError, component_config
from jepa_core.masking import Masker, MultiBlockMasker, create_masker, list_maskers
from jepa_core.registry import get_registry
from jepa_core.tokens import TokenLayout
from tests.helpers import check_maskset


@pytest.mark.parametrize("name, grid", [("multiblock", (8, 8)), ("random_subset", (12,)),
                                        ("temporal", (4, 3, 3))])
def test_create_masker__each_name_draws_masks(name, grid):
    masker = create_masker(component_config("mask", {"name": name}))
    assert isinstance(masker, Masker) and isinstance(masker, get_registry("masker").get(name))
    layout = TokenLayout(grid)
    masker.check(layout)
    m = masker(3, layout, seed=0, step=1, sample_ids=torch.tensor([4, 5, 6]))
    check_maskset(m, layout.num_tokens)


def test_create_masker__builtins_are_registered():
    assert {"multiblock", "random_subset", "temporal", "bev"} <= set(list_maskers())


def test_create_masker__fields_reach_the_masker():
    masker = create_masker("multiblock", num_targets=2, target_scale=[0.1, 0.2])
    assert (masker.num_targets, masker.target_scale) == (2, (0.1, 0.2))
    assert create_masker({"name": "bev", "context_ratio": 0.6}).context_ratio == 0.6


def test_create_masker__unknown_name_lists_known():
    with pytest.raises(ConfigError, match="unknown masker 'nope'.*multiblock"):
        create_masker("nope")


def test_create_masker__field_of_another_masker():
    with pytest.raises(ConfigError, match=r"mask\.context_ratio is not a field of masker "
                                          r"'multiblock' \(it is one of: bev, random_subset\); "
                                          r"its fields are \['name', 'num_targets'"):
        create_masker("multiblock", context_ratio=0.5)


def test_masker_check__grid_too_small_raises():
    with pytest.raises(ValueError, match="min_keep"):
        MultiBlockMasker(min_keep=4).check(TokenLayout((3, 3)))
    with pytest.raises(ValueError, match="frames"):
        create_masker("temporal", frames=4).check(TokenLayout((4, 2)))
    with pytest.raises(ValueError, match="'last' or 'random'"):
        create_masker("temporal", span="first")


def test_check_masks_fit__names_the_source_of_the_grid_and_the_fix():
    from jepa_core.masking import check_masks_fit
    from jepa_core.modality import DataError

    check_masks_fit({"name": "multiblock"}, (8, 8), "an 8 x 8 grid", "grow it")  # fits: no error
    with pytest.raises(DataError) as e:
        check_masks_fit({"name": "multiblock"}, (2, 2), "options.side=2,", "use options.side >= 5")
    message = str(e.value)
    assert message.startswith("options.side=2, make a 2 x 2 token grid, too small for the multiblock masks (")
    assert message.endswith("; use options.side >= 5") and "min_keep" in message
