import pytest
import torch

from tests.helpers import check_maskset, reference_masking

temporal_masks = reference_masking().temporal_masks


def test_temporal__last_frames_hidden():
    m = temporal_masks(2, (4, 2, 3), frames=2, seed=0)
    check_maskset(m, 24)
    assert m.context_idx[0].tolist() == list(range(12))
    assert m.target_idx[0, 0].tolist() == list(range(12, 24))


def test_temporal__random_span_is_contiguous_and_covers_all_starts():
    starts = set()
    for step in range(10):
        m = temporal_masks(16, (6, 3), frames=2, seed=1, step=step, random_span=True)
        check_maskset(m, 18)
        frames = m.target_idx[:, 0] // 3
        assert bool((frames.max(-1).values - frames.min(-1).values == 1).all())
        starts |= set(frames.min(-1).values.tolist())
    assert starts == {0, 1, 2, 3, 4}


def test_temporal__token_valid_is_respected():
    valid = torch.ones(2, 6, dtype=torch.bool)
    valid[0, 5] = False
    valid[1, 0] = False
    m = temporal_masks(2, (3, 2), frames=1, seed=0, token_valid=valid)
    check_maskset(m, 6, token_valid=valid)
    assert m.target_valid.sum(-1).flatten().tolist() == [1, 2]


@pytest.mark.parametrize("frames", [0, 4])
def test_temporal__bad_frames_raise(frames):
    with pytest.raises(ValueError, match="frames"):
        temporal_masks(1, (4, 2), frames=frames, seed=0)
