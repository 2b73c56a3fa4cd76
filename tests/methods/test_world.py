"""The world method: teacher-free by default, EMA teacher by config, loss going down."""

import numpy as np
import pytest
import torch

from jepa_core.config import ConfigError, build_config
from jepa_core.registry import create_modality
from jepa_core.run import build_model
from modalities.world.trajectories import write_episode

TINY = {"model": {"dim": 8}, "data": {"batch_size": 8},
        "objective": {"sigreg_slices": 16},
        "predictor": {"dim": 16, "depth": 1, "heads": 2},
        "options": {"history": 2, "horizon": 2, "frame_skip": 1, "stride": 1, "hidden": 16}}


@pytest.fixture
def point_data(tmp_path):
    rng = np.random.default_rng(0)
    for e in range(4):
        a = rng.uniform(-1, 1, (10, 2)).astype(np.float32)
        s = np.cumsum(np.concatenate([rng.uniform(0, 1, (1, 2)), 0.1 * a[:-1]]), 0).astype(np.float32)
        write_episode(tmp_path / f"e{e}.npz", s, a)
    return tmp_path


def _model(data, **layers):
    plugin = create_modality("world")
    cfg = build_config({"modality": "world"}, plugin.default_config(), TINY, layers)
    dataset, state = plugin.load(str(data), cfg, None)
    return build_model(cfg, plugin, state), plugin.collate([dataset[i] for i in range(8)])


@pytest.mark.parametrize("kind", ["none", "ema"])
def test_world__loss_goes_down_and_only_the_student_learns(point_data, kind):
    model, batch = _model(point_data, target={"kind": kind})
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for step in range(30):
        out = model(batch, torch.arange(8), step)
        opt.zero_grad()
        out.loss.backward()
        if kind == "ema":
            assert all(p.grad is None for p in model.target.encoder.parameters())
        opt.step()
        model.target.update(model.encoder, 0.99)
        losses.append(out.loss.item())
    assert {"latent", "sigreg", "rollout_l2"} <= set(out.parts)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_world__predictor_settings_come_from_the_predictor_section(point_data):
    model, _ = _model(point_data)
    assert model.predictor.dim == 16 and len(model.predictor.transformer.blocks) == 1
    with pytest.raises(ConfigError, match="nosuch"):
        _model(point_data, predictor={"nosuch": 1})
    with pytest.raises(ConfigError, match="set predictor.name=action"):
        _model(point_data, predictor={"name": "masked"})


def test_world__smoothness_adds_the_mean_squared_step_between_frame_latents(point_data):
    model, batch = _model(point_data, method={"smoothness": 0.5})
    assert model.weights.smoothness == 0.5
    out = model(batch, torch.arange(8), 0)
    z = model.encoder.tokenize(batch).tokens
    reference = (z[:, 1:] - z[:, :-1]).pow(2).sum(-1).mean()
    assert torch.allclose(out.parts["smoothness"], reference, rtol=1e-5)
    model.weights.smoothness = 0.0
    plain = model(batch, torch.arange(8), 0)
    assert "smoothness" not in plain.parts
    assert torch.allclose(out.loss, plain.loss + 0.5 * reference, rtol=1e-5)
