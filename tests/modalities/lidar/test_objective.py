"""The lidar plugin's fading covariance term: VICReg's covariance early in a run, then none."""

import pytest
import torch

from jepa_core.config import ConfigError, build_config
from jepa_core.objectives import Objective, vicreg_covariance
from modalities.lidar import LidarModality
from modalities.lidar.objective import FadingCovariance, fade_factor


def test_fading_covariance__full_weight_then_a_half_cosine_to_zero():
    z = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
    reg = FadingCovariance(full_steps=10, fade_steps=4)
    full = vicreg_covariance(z, sync=False)
    got = [reg(z, step=s, sync=False).item() for s in (0, 10, 12, 14, 100)]
    assert got == pytest.approx([full.item(), full.item(), 0.5 * full.item(), 0.0, 0.0])
    assert [fade_factor(s, 3, 0) for s in (3, 4)] == [1.0, 0.0]


def test_fading_covariance__gradient_only_while_it_has_weight():
    z = torch.randn(16, 4, requires_grad=True)
    reg = FadingCovariance(full_steps=2, fade_steps=0)
    reg(z, step=2, sync=False).backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    assert not reg(z, step=3, sync=False).requires_grad


def test_fading_covariance__negative_steps_are_refused():
    with pytest.raises(ValueError, match="full_steps and fade_steps"):
        FadingCovariance(full_steps=-1)


def test_fading_covariance__lidar_defaults_use_it_through_objective_regularizers():
    cfg = build_config({"modality": "lidar"}, LidarModality().default_config())
    assert cfg.objective.vicreg_covariance == 0 and cfg.objective.regularizers["fading_covariance"] > 0
    objective = Objective.from_config(cfg.objective)
    z = torch.randn(64, 8)
    _, parts = objective(torch.randn(2, 3, 8), torch.randn(2, 3, 8), None, z, seed=0, step=0)
    assert parts["fading_covariance"] == pytest.approx(vicreg_covariance(z, sync=False).item(), rel=1e-5)


def test_fading_covariance__unknown_setting_names_its_key():
    with pytest.raises(ConfigError, match="objective.terms.fading_covariance.steps"):
        build_config({"modality": "lidar"}, LidarModality().default_config(),
                     {"objective": {"terms": {"fading_covariance": {"steps": 3}}}})
