"""Per-token probe targets and the pillar-statistics baseline."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_core.config import build_config
from jepa_core.modality import DataError
from modalities.lidar import LidarModality
from modalities.lidar.probe import find_label_file

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


def _touch(root, *names):
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).touch()


def test_find_label_file__semantickitti_sequences_pair_within_their_sequence(tmp_path):
    _touch(tmp_path, "00/velodyne/000000.bin", "01/velodyne/000000.bin",
           "00/labels/000000.label", "01/labels/000000.label")
    for seq in ("00", "01"):
        scan = tmp_path / seq / "velodyne" / "000000.bin"
        assert find_label_file(tmp_path, scan, tmp_path) == tmp_path / seq / "labels" / "000000.label"


def test_find_label_file__labels_mirroring_the_scan_subfolders(tmp_path):
    _touch(tmp_path, "scans/a/x.bin", "scans/b/x.bin", "labels/a/x.npy", "labels/b/x.npy")
    scan = tmp_path / "scans" / "b" / "x.bin"
    assert find_label_file(tmp_path / "labels", scan, tmp_path / "scans") == tmp_path / "labels/b/x.npy"


def test_find_label_file__another_subfolders_file_is_not_taken(tmp_path):
    _touch(tmp_path, "00/velodyne/000001.bin", "01/velodyne/000001.bin", "01/labels/000001.label")
    scan = tmp_path / "00" / "velodyne" / "000001.bin"
    with pytest.raises(DataError, match=r"00/velodyne/000001\.bin: no label file 000001\.label .*"
                                        r"only elsewhere \(.*01/labels/000001\.label\)"):
        find_label_file(tmp_path, scan, tmp_path)


def test_find_label_file__flat_scans_take_a_unique_nested_label(tmp_path):
    _touch(tmp_path, "scans/x.bin", "labels/train/x.label")
    scan = tmp_path / "scans" / "x.bin"
    assert find_label_file(tmp_path / "labels", scan, tmp_path / "scans") == tmp_path / "labels/train/x.label"
