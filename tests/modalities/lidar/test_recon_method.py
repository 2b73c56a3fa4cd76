"""The ``lidar_recon`` method: per-cell and per-patch BEV statistics, its loss term, its settings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jepa_core.config import ConfigError, build_config
from jepa_core.method import JEPA
from jepa_core.registry import create_modality, get_registry
from jepa_core.run import build_model
from modalities.lidar.options import LidarOptions
from modalities.lidar.pillars import concat_clouds, crop_mask
from modalities.lidar.probe import raw_features
from modalities.lidar.recon_method import CELL_STATS, ReconJEPA, cell_statistics, patch_statistics

from .scans import parking_lot, tiny_demo

OPTS = LidarOptions(point_range=[0.0, -12.8, -3.0, 25.6, 12.8, 1.0], pillar_size=[0.8, 0.8], patch=4,
                    pillar_channels=8)
TINY = {"model": {"dim": 16, "depth": 1, "heads": 2}, "predictor": {"dim": 16, "depth": 1, "heads": 2},
        "data": {"batch_size": 4, "num_workers": 0},
        "options": {"point_range": OPTS.point_range, "pillar_size": OPTS.pillar_size, "patch": 4,
                    "pillar_channels": 8}}


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    return tiny_demo(tmp_path_factory.mktemp("recon"), num_scans=4) / "velodyne"


def _model(scans, **method):
    plugin = create_modality("lidar")
    cfg = build_config({"modality": "lidar"}, plugin.default_config(), TINY,
                       {"method": {"name": "lidar_recon", **method}})
    dataset, state = plugin.load(str(scans), cfg, None)
    return build_model(cfg, plugin, state), plugin.collate([dataset[i] for i in range(4)])


def test_recon__is_a_registered_method():
    assert get_registry("method").get("lidar_recon") is ReconJEPA


def test_recon__is_the_lidar_default_and_masked_is_one_set_away(scans):
    plugin = create_modality("lidar")
    models = []
    for override in ({}, {"method": {"name": "masked"}}):
        cfg = build_config({"modality": "lidar"}, plugin.default_config(), TINY, override)
        dataset, state = plugin.load(str(scans), cfg, None)
        models.append(build_model(cfg, plugin, state))
    default, masked = models
    assert isinstance(default, ReconJEPA) and default.source == "context"
    assert default.statistics is patch_statistics and default.recon_weight == 0.3
    assert type(masked) is JEPA


def test_cell_statistics__match_a_naive_loop():
    pts = torch.from_numpy(parking_lot(np.random.default_rng(0))[0][::7])
    got = cell_statistics(concat_clouds([pts]), OPTS)[0]  # [64 tokens, 5 * 16]
    assert got.shape == (64, len(CELL_STATS) * 16)
    cells: dict[tuple[int, int], list] = {}
    for x, y, z, i in pts.tolist():  # a plain loop is fine in a test reference
        if 0 <= x < 25.6 and -12.8 <= y < 12.8 and -3 <= z < 1:
            cells.setdefault((int((y + 12.8) // 0.8), int(x // 0.8)), []).append((z, i))
    want = torch.zeros(64, len(CELL_STATS), 4, 4)
    for (row, col), vals in cells.items():
        z = [(v[0] + 3.0) / 4.0 for v in vals]
        want[(row // 4) * 8 + col // 4, :, row % 4, col % 4] = torch.tensor(
            [1.0, math.log1p(len(vals)), np.mean(z), max(z), np.mean([v[1] for v in vals])])
    torch.testing.assert_close(got, want.reshape(64, -1), atol=1e-5, rtol=1e-5)


def test_patch_statistics__are_the_probe_baseline_features_of_each_scan():
    clouds = [torch.from_numpy(parking_lot(np.random.default_rng(i))[0][::5]) for i in range(2)]
    clouds = [c[crop_mask(c, OPTS.point_range)] for c in clouds]
    got = patch_statistics(concat_clouds(clouds), OPTS)
    for i, c in enumerate(clouds):
        want = torch.from_numpy(raw_features(c, OPTS))  # heights in metres
        want[:, 2:5] = (want[:, 2:5] + 3.0) / 4.0  # -> over the range's height, above its floor
        want[:, 5] /= 4.0
        torch.testing.assert_close(got[i], want, atol=1e-3, rtol=1e-4)  # std: E[z²] - E[z]² in float32


@pytest.mark.parametrize(("source", "stats"),
                         [("context", "cells"), ("masked", "cells"), ("context", "patch")])
def test_recon__adds_the_weighted_term_to_the_masked_loss(scans, source, stats):
    model, batch = _model(scans, weight=0.5, source=source, hidden=8, stats=stats)
    ids = torch.arange(4)
    out = model(batch, ids, 0)
    plain = model.masked_step(batch, ids, 0)
    assert out.parts["recon"] > 0
    torch.testing.assert_close(out.loss, plain.loss + 0.5 * out.parts["recon"])
    out.loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.decoder.parameters())


def test_recon__weight_zero_is_the_masked_method(scans):
    model, batch = _model(scans, weight=0.0)
    out = model(batch, torch.arange(4), 0)
    assert "recon" not in out.parts
    torch.testing.assert_close(out.loss, model.masked_step(batch, torch.arange(4), 0).loss)


def test_recon__the_term_goes_down_with_training(scans):
    model, batch = _model(scans, weight=1.0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    recon = []
    for step in range(25):
        out = model(batch, torch.arange(4), step)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        recon.append(out.parts["recon"].item())
    assert np.mean(recon[-5:]) < 0.8 * np.mean(recon[:5])


def test_recon__bad_settings_name_the_field(scans):
    with pytest.raises(ConfigError, match="method.source"):
        _model(scans, source="nosuch")
    with pytest.raises(ConfigError, match="method.stats"):
        _model(scans, stats="nosuch")
    with pytest.raises(ConfigError, match="method.weight"):
        _model(scans, weight=-1.0)


def test_standardized__equals_the_kept_rows_mean_and_std_and_zeros_below_two_rows():
    from modalities.lidar.recon_method import standardized

    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 4, generator=g) * 3 + 1
    keep = torch.rand(3, 5, generator=g) > 0.4
    rows = x[keep]
    torch.testing.assert_close(standardized(x, keep), (x - rows.mean(0)) / (rows.std(0) + 1e-4))
    one = torch.zeros(3, 5, dtype=torch.bool)
    one[1, 2] = True
    assert standardized(x, one).eq(0).all() and standardized(x, torch.zeros_like(one)).eq(0).all()
