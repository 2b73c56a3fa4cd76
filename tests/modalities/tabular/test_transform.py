"""Applying a schema: JSON round trip, unknown categories, missing values, inf."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from jepa_core.config import build_config
from jepa_core.modality import DataError
from modalities.tabular import DataWarning, TabularModality
from modalities.tabular.transform import MISSING_INDEX, UNKNOWN_INDEX
from tests.helpers import tiny_table


def _load(path, state=None, **sections):
    plugin = TabularModality()
    cfg = build_config(plugin.default_config(), sections)
    return plugin.load(str(path), cfg, state)


def test_load__state_round_trips_through_json(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    ds, state = _load(tmp_path / "t.csv")
    again, state2 = _load(tmp_path / "t.csv", json.loads(json.dumps(state)))
    assert state2 == state
    for key in ("num", "num_missing", "cat"):
        assert torch.equal(getattr(ds, key), getattr(again, key))


def test_load__item_format(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    ds, _ = _load(tmp_path / "t.csv")
    item = ds[0]
    assert set(item) == {"num", "num_missing", "cat"}
    assert item["num"].dtype == torch.float32 and item["num"].shape == (2,)
    assert item["num_missing"].dtype == torch.bool and item["num_missing"].shape == (2,)
    assert item["cat"].dtype == torch.int64 and item["cat"].shape == (3,)
    assert len(ds) == 12


def test_load__missing_values_flagged(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    ds, _ = _load(tmp_path / "t.csv")
    assert ds[1]["num_missing"].tolist() == [False, True]
    assert ds[1]["num"][1].item() == 0.0
    assert ds[2]["cat"][0].item() == MISSING_INDEX
    assert int(ds.num_missing.sum()) == 1


def test_load__unseen_category_maps_to_unknown(tmp_path):
    tiny_table().to_csv(tmp_path / "fit.csv", index=False)
    _, state = _load(tmp_path / "fit.csv")
    new = tiny_table(rows=4).assign(color=["purple", "red", None, "teal"], level=[0, 9, 1, 2])
    new.to_csv(tmp_path / "new.csv", index=False)
    with pytest.warns(DataWarning) as caught:
        ds, _ = _load(tmp_path / "new.csv", state)
    assert ds.cat[:, 0].tolist()[0] == UNKNOWN_INDEX
    assert ds.cat[:, 0].tolist()[2] == MISSING_INDEX
    assert ds.cat[:, 0].tolist()[3] == UNKNOWN_INDEX
    assert ds.cat[1, 2].item() == UNKNOWN_INDEX
    messages = [str(w.message) for w in caught]
    assert any("new.csv, column 'color': 2 row(s) hold 2 categories the run's vocabulary lacks "
               "('purple', 'teal')" in m for m in messages), messages
    assert any("column 'level': 1 row(s) hold 1 category the run's vocabulary lacks ('9')" in m
               for m in messages), messages


def test_load__the_fitted_table_itself_warns_of_no_unknown_category(tmp_path, recwarn):
    tiny_table().to_csv(tmp_path / "fit.csv", index=False)
    _, state = _load(tmp_path / "fit.csv", options={"max_vocab_size": 1})  # most categories cut
    assert not [w for w in recwarn if "vocabulary lacks" in str(w.message)]
    _load(tmp_path / "fit.csv", state, options={"max_vocab_size": 1})  # embed time: said once
    assert [w for w in recwarn if "column 'color'" in str(w.message) and "too rare" in str(w.message)]


def test_load__integer_categories_match_across_dtypes(tmp_path):
    df = tiny_table()
    df.to_csv(tmp_path / "a.csv", index=False)
    ds, state = _load(tmp_path / "a.csv")
    df.assign(level=df["level"].astype(float)).to_parquet(tmp_path / "b.parquet")
    again, _ = _load(tmp_path / "b.parquet", state)
    assert torch.equal(ds.cat, again.cat)


def test_load__values_standardized_and_clipped(tmp_path):
    df = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5, 1e9], "c": list("ababa")})
    df.to_csv(tmp_path / "t.csv", index=False)
    ds, _ = _load(tmp_path / "t.csv", options={"clip": 3.0})
    assert ds.num[2, 0].item() == 0.0
    assert ds.num[4, 0].item() == 3.0


def test_load__inf_treated_as_missing_with_warning(tmp_path):
    df = tiny_table()
    df.loc[4, "height"] = np.inf
    df.to_parquet(tmp_path / "t.parquet")
    with pytest.warns(DataWarning, match=r"column 'height': 1 infinite value\(s\) treated as "
                                         r"missing"):
        ds, state = _load(tmp_path / "t.parquet")
    assert ds[4]["num_missing"][0].item() is True
    assert np.isfinite(state["numeric"][0]["median"])


def test_load__text_in_numeric_column_at_embed_time(tmp_path):
    tiny_table().to_csv(tmp_path / "fit.csv", index=False)
    _, state = _load(tmp_path / "fit.csv")
    tiny_table().assign(height=["1.5"] * 5 + ["tall"] + ["2"] * 6).to_csv(
        tmp_path / "new.csv", index=False)
    with pytest.raises(DataError, match=r"new\.csv, row 6 \(line 7\), column 'height': "
                                        r"expected a number, got 'tall'"):
        _load(tmp_path / "new.csv", state)


def test_load__feature_column_absent_at_embed_time(tmp_path):
    tiny_table().to_csv(tmp_path / "fit.csv", index=False)
    _, state = _load(tmp_path / "fit.csv")
    tiny_table().drop(columns=["color"]).to_csv(tmp_path / "new.csv", index=False)
    with pytest.raises(DataError, match=r"new\.csv: missing feature column\(s\) \['color'\]"):
        _load(tmp_path / "new.csv", state)


def test_load__bad_state_format(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match="saved tabular state has format"):
        _load(tmp_path / "t.csv", {"format": "something/else"})


def test_load__ignore_columns_from_config(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    ds, state = _load(tmp_path / "t.csv", options={"ignore_columns": ["color"]})
    assert ds.feature_names == ["height", "weight", "active", "level"]
    with pytest.raises(DataError, match=r"ignore_columns\) names column\(s\) \['nope'\]"):
        _load(tmp_path / "t.csv", options={"ignore_columns": ["nope"]})
