"""Per-token probe targets and the pillar-statistics baseline."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_core.config import build_config
from jepa_core.modality import DataError
from modalities.lidar import LidarModality

from .scans import parking_lot, tiny_demo


def test_probe_data__demo_scans(tmp_path):
    root = tiny_demo(tmp_path, num_scans=2)
    plugin = LidarModality()
    cfg = build_config(plugin.default_config())
    _, state = plugin.load(str(root / "velodyne"), cfg, None)
    pd = plugin.probe_data(str(root / "velodyne"), str(root / "labels"), None, cfg, state)
    assert pd.targets.shape == (2, 1024) and pd.raw_features.shape == (2, 1024, 7)
    assert pd.metric == "miou" and pd.level == "token"
    labelled = pd.targets >= 0
    assert labelled.any() and (pd.raw_features[~labelled][:, 1] == 0).all()  # no points, no label
    assert {40, 50} <= set(np.unique(pd.targets[labelled]).tolist())  # road and buildings


def test_probe_data__labels_count_mismatch_names_file(tmp_path):
    pts, labels = parking_lot(np.random.default_rng(0))
    (tmp_path / "scans").mkdir()
    (tmp_path / "labels").mkdir()
    pts.tofile(tmp_path / "scans" / "lot.bin")
    np.save(tmp_path / "labels" / "lot.npy", labels[:-3])
    plugin = LidarModality()
    cfg = build_config(plugin.default_config())
    _, state = plugin.load(str(tmp_path / "scans"), cfg, None)
    with pytest.raises(DataError, match=r"lot\.npy: .* labels but the scan .*lot\.bin has"):
        plugin.probe_data(str(tmp_path / "scans"), str(tmp_path / "labels"), None, cfg, state)
