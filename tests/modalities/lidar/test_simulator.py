"""The ray-casting street simulator and its KITTI / SemanticKITTI output."""

from __future__ import annotations

import numpy as np

from modalities.lidar.readers import read_labels, read_scan
from modalities.lidar.scene import CLASSES, street_scene
from modalities.lidar.simulator import SensorSpec, cast

from .scans import tiny_demo


def test_write_dataset__kitti_files_with_matching_labels(tmp_path):
    root = tiny_demo(tmp_path, num_scans=2)
    for i in range(2):
        pts = read_scan(root / "velodyne" / f"{i:06d}.bin")
        labels = read_labels(root / "labels" / f"{i:06d}.label", len(pts))
        assert set(np.unique(labels)) <= set(CLASSES.values())
        assert 0 <= pts[:, 3].min() and pts[:, 3].max() <= 1


def test_cast__geometry_of_a_sweep():
    rng = np.random.default_rng(1)
    spec = SensorSpec(beams=32, azimuths=256, dropout=0.0, range_noise=0.0)
    scene = street_scene(rng)
    pts, labels = cast(scene, spec, rng)
    cls = labels & 0xFFFF
    ground = np.isin(cls, [CLASSES["road"], CLASSES["sidewalk"], CLASSES["terrain"]])
    np.testing.assert_allclose(pts[ground, 2], -spec.height, atol=1e-4)  # ground plane
    assert (np.linalg.norm(pts[:, :3], axis=1) < spec.max_range).all()
    assert {CLASSES["road"], CLASSES["building"], CLASSES["car"]} <= set(cls.tolist())
    elev = np.degrees(np.arcsin(pts[:, 2] / np.linalg.norm(pts[:, :3], axis=1)))
    assert elev.min() >= spec.elevation[0] - 1e-3 and elev.max() <= spec.elevation[1] + 1e-3


def test_cast__dropout_removes_returns():
    scene = street_scene(np.random.default_rng(2))
    full, _ = cast(scene, SensorSpec(beams=8, azimuths=256, dropout=0.0), np.random.default_rng(0))
    half, _ = cast(scene, SensorSpec(beams=8, azimuths=256, dropout=0.5), np.random.default_rng(0))
    assert 0.35 * len(full) < len(half) < 0.65 * len(full)
