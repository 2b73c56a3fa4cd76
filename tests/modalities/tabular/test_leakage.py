"""Probe-time warning for a feature the label follows from (a column derived from it)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

from jepa_core import cli
from modalities.tabular.leakage import leaking_features
from modalities.tabular.transform import EncodedTable

STATE = {"numeric": [{"name": "x"}, {"name": "noise"}], "categorical": [{"name": "code"}]}


def table(x, noise, code, missing=None) -> EncodedTable:
    num = np.stack([x, noise], axis=1).astype(np.float32)
    miss = np.zeros_like(num, dtype=bool) if missing is None else missing
    return EncodedTable(num, miss, np.asarray(code, np.int64)[:, None])


def test_leaking_features__classification_separated_ranges_and_pure_codes():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    t = table(y * 10 + rng.uniform(0, 5, 60), rng.normal(size=60), 2 + y)
    assert [name for name, _ in leaking_features(t, STATE, y, "classification")] == ["x", "code"]
    assert leaking_features(t, STATE, y, "classification", exclude="x")[0][0] == "code"


def test_leaking_features__regression_correlation_and_identifiers_are_not_leaks():
    rng = np.random.default_rng(1)
    y = rng.normal(size=100)
    unique_codes = np.arange(100) + 2  # an identifier: one row per value, not a leak
    found = leaking_features(table(3 * y + 1e-3 * rng.normal(size=100), rng.normal(size=100),
                                   unique_codes), STATE, y, "regression")
    assert [name for name, _ in found] == ["x"] and "r = 1.000" in found[0][1]


def test_leaking_features__overlapping_classes_are_fine():
    rng = np.random.default_rng(2)
    y = np.repeat([0, 1], 50)
    t = table(y + rng.normal(size=100), rng.normal(size=100), rng.integers(2, 5, 100))
    assert leaking_features(t, STATE, y, "classification") == []


def test_probe__warns_about_a_column_derived_from_the_label(tmp_path):
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120),
                       "kind": rng.choice(["p", "q", "r"], 120)})
    df["kind_code"] = df["kind"].map({"p": "P1", "q": "Q1", "r": "R1"})  # derived from the label
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    run = tmp_path / "run"
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        assert cli.main(["pretrain", "tabular", "--data", str(path), "--ignore-columns", "kind",
                         "--out", str(run), "--steps", "1", "--batch-size", "32",
                         "--set", "model.depth=1", "--set", "logging.progress=false"]) == 0
        assert cli.main(["probe", str(run), "--label", "kind"]) == 0
    assert ("column 'kind_code': this feature gives the label 'kind' away" in err.getvalue()
            and "--ignore-columns kind,kind_code" in err.getvalue())
    assert "column 'a'" not in err.getvalue()
