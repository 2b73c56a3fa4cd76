"""probe_data: shapes, task inference, dropped labels, label leakage, bad labels."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_core.config import build_config
from jepa_core.modality import DataError
from modalities.tabular import DataWarning, TabularModality
from modalities.tabular.transform import MISSING_INDEX
from tests.helpers import tiny_table


def _fit(tmp_path, df, ignore=()):
    df.to_csv(tmp_path / "t.csv", index=False)
    plugin = TabularModality()
    cfg = build_config(plugin.default_config(), {"options": {"ignore_columns": list(ignore)}})
    _, state = plugin.load(str(tmp_path / "t.csv"), cfg, None)
    return plugin, cfg, state, str(tmp_path / "t.csv")


def _with_label(rows=12):
    df = tiny_table(rows)
    return df.assign(kind=["cat", "dog"] * (rows // 2), price=np.linspace(1.5, 99.5, rows))


def test_probe_data__classification(tmp_path):
    plugin, cfg, state, path = _fit(tmp_path, _with_label(), ignore=["kind", "price"])
    probe = plugin.probe_data(path, "kind", None, cfg, state)
    assert (probe.task, probe.metric, probe.level) == ("classification", "accuracy", "sample")
    assert probe.targets.tolist() == [0, 1] * 6
    assert len(probe.dataset) == 12
    # height, weight (value + missing flag each), color 3+2, active 2+2, level 4+2
    assert probe.raw_features.shape == (12, 4 + 5 + 4 + 6)


def test_probe_data__regression(tmp_path):
    plugin, cfg, state, path = _fit(tmp_path, _with_label(), ignore=["kind", "price"])
    probe = plugin.probe_data(path, "price", None, cfg, state)
    assert (probe.task, probe.metric) == ("regression", "r2")
    assert probe.targets.dtype == np.float64 and probe.targets[-1] == 99.5


def test_probe_data__task_given(tmp_path):
    plugin, cfg, state, path = _fit(tmp_path, _with_label(), ignore=["kind", "price"])
    with pytest.warns(DataWarning, match="also a pretraining feature"):
        assert plugin.probe_data(path, "level", "regression", cfg, state).task == "regression"
    with pytest.raises(DataError, match=r"column 'kind'.*regression label is 'cat'"):
        plugin.probe_data(path, "kind", "regression", cfg, state)
    with pytest.raises(DataError, match="unknown probe task 'clustering'"):
        plugin.probe_data(path, "kind", "clustering", cfg, state)


def test_probe_data__missing_labels_dropped_with_warning(tmp_path):
    df = _with_label()
    df.loc[[3, 7], "kind"] = None
    plugin, cfg, state, path = _fit(tmp_path, df, ignore=["kind", "price"])
    with pytest.warns(DataWarning, match=r"column 'kind': 2 row\(s\) with a missing label dropped"):
        probe = plugin.probe_data(path, "kind", None, cfg, state)
    assert len(probe.dataset) == len(probe.targets) == probe.raw_features.shape[0] == 10


def test_probe_data__label_that_is_a_feature_is_hidden(tmp_path):
    plugin, cfg, state, path = _fit(tmp_path, _with_label(), ignore=["price"])
    with pytest.warns(DataWarning, match=r"column 'kind': the label is also a pretraining feature"):
        probe = plugin.probe_data(path, "kind", None, cfg, state)
    j = probe.dataset.feature_names.index("kind") - len(state["numeric"])
    assert (probe.dataset.cat[:, j] == MISSING_INDEX).all()
    assert probe.raw_features.shape == (12, 4 + 5 + 4 + 6)


def test_probe_data__numeric_label_that_is_a_feature_is_hidden(tmp_path):
    plugin, cfg, state, path = _fit(tmp_path, _with_label(), ignore=["kind"])
    with pytest.warns(DataWarning, match="also a pretraining feature"):
        probe = plugin.probe_data(path, "price", None, cfg, state)
    j = probe.dataset.feature_names.index("price")
    assert probe.dataset.num_missing[:, j].all() and (probe.dataset.num[:, j] == 0).all()
    assert probe.raw_features.shape == (12, 4 + 5 + 4 + 6)


def test_probe_data__label_does_not_exist(tmp_path):
    plugin, cfg, state, path = _fit(tmp_path, _with_label(), ignore=["kind", "price"])
    with pytest.raises(DataError, match=r"t\.csv: label column 'target' does not exist"):
        plugin.probe_data(path, "target", None, cfg, state)


def test_probe_data__single_class(tmp_path):
    df = _with_label().assign(kind="cat")
    plugin, cfg, state, path = _fit(tmp_path, df, ignore=["kind", "price"])
    with pytest.raises(DataError, match=r"column 'kind': the label has a single class 'cat'"):
        plugin.probe_data(path, "kind", None, cfg, state)


def test_probe_data__all_labels_missing(tmp_path):
    df = _with_label().assign(kind=None)
    plugin, cfg, state, path = _fit(tmp_path, df, ignore=["kind", "price"])
    with pytest.raises(DataError, match="every label is missing"):
        plugin.probe_data(path, "kind", None, cfg, state)


def test_probe_data__label_file(tmp_path):
    df = _with_label()
    plugin, cfg, state, path = _fit(tmp_path, df.drop(columns=["kind", "price"]))
    df[["kind"]].to_csv(tmp_path / "labels.csv", index=False)
    probe = plugin.probe_data(path, str(tmp_path / "labels.csv"), None, cfg, state)
    assert probe.targets.tolist() == [0, 1] * 6
    df[["kind"]].iloc[:5].to_csv(tmp_path / "short.csv", index=False)
    with pytest.raises(DataError, match="one row per row"):
        plugin.probe_data(path, str(tmp_path / "short.csv"), None, cfg, state)
