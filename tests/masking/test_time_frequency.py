"""The time-frequency masker: strip/band/block geometry, validity, curriculum, backends, config."""

from __future__ import annotations

import pytest
import torch

from jepa_core.config import ConfigError
from jepa_core.masking import create_masker
from jepa_core.masking.time_frequency import TimeFrequencyMasker
from jepa_core.tokens import TokenLayout
from tests.helpers import assert_masksets_equal, check_maskset

GRID = (5, 12)
LAYOUT = TokenLayout(GRID)


def _target_cells(ms, b: int) -> list[set[tuple[int, int]]]:
    """Per target, its (frequency, time) cells."""
    out = []
    for m in range(ms.target_idx.shape[1]):
        idx = ms.target_idx[b, m][ms.target_valid[b, m]].tolist()
        out.append({(i // GRID[1], i % GRID[1]) for i in idx})
    return out


def test_time_frequency__time_strips_cover_every_frequency_row():
    m = TimeFrequencyMasker(kinds=["time"], num_targets=2, time_width=(0.15, 0.3))
    for step in range(10):
        ms = m(4, LAYOUT, seed=3, step=step)
        check_maskset(ms, 60)
        for b in range(4):
            for cells in _target_cells(ms, b):
                cols = {t for _, t in cells}
                assert {f for f, _ in cells} == set(range(5))
                assert cells == {(f, t) for f in range(5) for t in cols}  # whole columns
                assert 2 <= len(cols) <= 4 and max(cols) - min(cols) == len(cols) - 1  # contiguous


def test_time_frequency__frequency_bands_span_the_whole_clip():
    m = TimeFrequencyMasker(kinds=["frequency"], num_targets=1, freq_width=(0.2, 0.4))
    for step in range(10):
        ms = m(3, LAYOUT, seed=0, step=step)
        check_maskset(ms, 60)
        for b in range(3):
            (cells,) = _target_cells(ms, b)
            rows = {f for f, _ in cells}
            assert cells == {(f, t) for f in rows for t in range(12)} and 1 <= len(rows) <= 2


def test_time_frequency__context_is_every_valid_token_outside_the_targets():
    valid = torch.ones(4, 5, 12, dtype=torch.bool)
    valid[1, :, 8:] = False  # a short clip: its last 4 time patches are padding
    valid = valid.flatten(1)
    m = TimeFrequencyMasker(kinds=["time", "frequency", "block"])
    for step in range(12):
        ms = m(4, LAYOUT, seed=1, step=step, token_valid=valid)
        check_maskset(ms, 60, valid)
        hidden = torch.zeros(4, 61, dtype=torch.bool)
        hidden.scatter_(1, torch.where(ms.target_valid, ms.target_idx, 60).flatten(1), True)
        assert torch.equal(ms.context_valid.sum(1), (valid & ~hidden[:, :60]).sum(1))


def test_time_frequency__kinds_are_mixed_across_batches_and_ratios_match_widths():
    m = TimeFrequencyMasker(num_targets=1)
    kinds = [m.draw(GRID, seed=0, step=s)[0] for s in range(60)]
    assert set(kinds) == {"time", "frequency", "block"}
    for s in range(60):
        kind, shape = m.draw(GRID, seed=0, step=s)
        if kind == "time":
            assert shape[0] == 5 and 0.1 * 12 - 0.5 <= shape[1] <= 0.25 * 12 + 0.5
        elif kind == "frequency":
            assert shape[1] == 12 and 1 <= shape[0] <= 2
        else:
            assert 0.15 * 60 * 0.5 <= shape[0] * shape[1] <= 0.2 * 60 * 1.6


def test_time_frequency__curriculum_goes_from_random_to_structured():
    m = TimeFrequencyMasker(curriculum_steps=100, random_context=0.3, random_target=0.7)
    early = [m.draw(GRID, seed=0, step=s)[0] for s in range(0, 20)]
    late = [m.draw(GRID, seed=0, step=s)[0] for s in range(100, 140)]
    assert early.count("random") >= 14 and "random" not in late
    step = next(s for s in range(20) if early[s] == "random")
    ms = m(2, LAYOUT, seed=0, step=step)
    assert ms.target_idx.shape[1] == 1 and ms.target_valid.sum(-1).flatten().tolist() == [42, 42]
    assert ms.context_valid.sum(-1).tolist() == [18, 18]


def test_random_subset__m2d_high_ratio_on_the_audio_grid():
    valid = torch.ones(2, 5, 12, dtype=torch.bool)
    valid[1, :, 6:] = False
    valid = valid.flatten(1)
    ms = create_masker({"name": "random_subset", "context_ratio": 0.3, "target_ratio": 0.7})(
        2, LAYOUT, seed=0, step=0, token_valid=valid)
    check_maskset(ms, 60, valid)
    assert ms.target_valid.sum(-1).flatten().tolist() == [42, 21]
    assert ms.context_valid.sum(-1).tolist() == [18, 9]


def test_time_frequency__compiled_and_reference_masks_agree():
    valid = torch.rand(3, 60, generator=torch.Generator().manual_seed(0)) > 0.2
    ids = torch.tensor([5, 9, 2])
    for step in range(8):
        a, b = (TimeFrequencyMasker(curriculum_steps=8, backend=be)(3, LAYOUT, seed=7, step=step,
                                                                     token_valid=valid, sample_ids=ids)
                for be in ("auto", "reference"))
        assert_masksets_equal(a, b)


def test_time_frequency__config_section_and_bad_settings():
    masker = create_masker({"name": "time_frequency", "kinds": ["time"], "time_width": [0.1, 0.2]})
    assert isinstance(masker, TimeFrequencyMasker) and masker.time_width == (0.1, 0.2)
    with pytest.raises(ConfigError):
        create_masker({"name": "time_frequency", "strips": 3})
    with pytest.raises(ValueError, match="mask.kinds"):
        TimeFrequencyMasker(kinds=["diagonal"])
    with pytest.raises(ValueError, match="2-D"):
        TimeFrequencyMasker().check(TokenLayout((12,)))
    with pytest.raises(ValueError, match="whole grid"):
        TimeFrequencyMasker(kinds=["time"], time_width=(1.0, 1.0)).check(LAYOUT)
