"""Probe labels for images kept as arrays: an .npz labels array, CSVs by index or PATH[i]."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jepa_core.cli import main as jepa
from jepa_core.modality import DataError
from modalities.image.labels import array_labels, csv_labels
from modalities.image.readers import list_items

from .images import blob
from .test_cli import TINY


def _arrays(n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    return np.stack([blob(rng, 16, int(k)) for k in y]), y


def test_array_labels__npz_labels_or_y_one_per_image(tmp_path):
    x, y = _arrays()
    np.savez(tmp_path / "a.npz", images=x, labels=np.array(["cat", "dog"])[y])
    np.savez(tmp_path / "b.npz", x=x[:4], y=y[:4])
    items = list_items(tmp_path / "a.npz", 2)
    indices, classes, targets = array_labels(items, "labels", "classification")
    assert indices == list(range(8)) and classes == ["cat", "dog"] and targets.tolist() == y.tolist()
    items = list_items(tmp_path / "b.npz", 2)  # images under 'x', labels under 'y'
    assert array_labels(items, "y", "regression")[2].tolist() == [0.0, 1.0, 0.0, 1.0]
    with pytest.raises(DataError, match=r"b\.npz: no array 'labels' to take labels from \(it has \['x', 'y'\]\)"):
        array_labels(items, "labels", "classification")


def test_array_labels__wrong_length_and_npy_are_errors(tmp_path):
    x, y = _arrays()
    np.savez(tmp_path / "a.npz", images=x, labels=y[:5])
    with pytest.raises(DataError, match=r"a\.npz: labels array 'labels' has shape \(5,\); expected \[8\]"):
        array_labels(list_items(tmp_path / "a.npz", 2), "labels", "classification")
    np.save(tmp_path / "b.npy", x)
    with pytest.raises(DataError, match=r"b\.npy\[0\] is not in one: use --label folder or --label FILE.csv"):
        array_labels(list_items(tmp_path / "b.npy", 2), "labels", "classification")


def test_csv_labels__index_for_one_array_and_path_brackets(tmp_path):
    x, y = _arrays()
    np.save(tmp_path / "a.npy", x)
    items = list_items(tmp_path / "a.npy", 2)
    (tmp_path / "by_index.csv").write_text("index,label\n" + "".join(f"{i},c{y[i]}\n" for i in (7, 0, 1, 2)))
    indices, classes, targets = csv_labels(items, tmp_path / "a.npy", tmp_path / "by_index.csv", "classification")
    assert indices == [7, 0, 1, 2] and classes == ["c0", "c1"] and targets.tolist() == [1, 0, 1, 0]
    (tmp_path / "by_path.csv").write_text("path,label\n" + "".join(f"a.npy[{i}],{y[i]}\n" for i in range(4)))
    assert csv_labels(items, tmp_path, tmp_path / "by_path.csv", "classification")[0] == [0, 1, 2, 3]
    (tmp_path / "bad.csv").write_text("index,label\n0,a\n9,b\n")
    with pytest.raises(DataError, match=r"bad\.csv, line 3: index '?9'? is not an image of .*a\.npy \(0 \.\. 7\)"):
        csv_labels(items, tmp_path / "a.npy", tmp_path / "bad.csv", "classification")
    np.save(tmp_path / "b.npy", x)
    with pytest.raises(DataError, match=r"an index,label CSV is for data that is one array file"):
        csv_labels(list_items(tmp_path, 2), tmp_path, tmp_path / "by_index.csv", "classification")


def test_cli__probe_npz_images_by_their_labels_array(tmp_path, capsys):
    x, y = _arrays(16)
    data = tmp_path / "digits.npz"
    np.savez(data, images=x, labels=y)
    run = tmp_path / "r"
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(run), "--steps", "1",
                 "--batch-size", "8", "--set", "data.num_workers=0", *TINY]) == 0
    capsys.readouterr()
    assert jepa(["probe", str(run), "--label", "labels", "--probe", "knn"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metric"] == "accuracy" and {"pretrained", "random_init", "raw"} <= result.keys()
    assert jepa(["probe", str(run), "--label", "classes"]) == 2
    assert "no array 'classes'" in capsys.readouterr().err
