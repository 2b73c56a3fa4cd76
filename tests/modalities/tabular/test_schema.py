"""Schema inference: column kinds, overrides, dropped and ignored columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jepa_core.modality import DataError
from modalities.tabular import DataWarning, TabularOptions
from modalities.tabular.schema import feature_names, fit_schema
from tests.helpers import tiny_table


def _kinds(state: dict) -> tuple[list[str], list[str]]:
    return [c["name"] for c in state["numeric"]], [c["name"] for c in state["categorical"]]


def test_fit_schema__infers_kinds():
    state = fit_schema(tiny_table(), "t.csv", TabularOptions())
    numeric, categorical = _kinds(state)
    assert numeric == ["height", "weight"]
    assert categorical == ["color", "active", "level"]
    assert feature_names(state) == numeric + categorical


@pytest.mark.filterwarnings("ignore:.*counts the rows")  # np.arange is a row counter, flagged
def test_fit_schema__many_distinct_integers_are_numeric():
    df = pd.DataFrame({"count": np.arange(50), "x": np.linspace(0, 1, 50)})
    assert _kinds(fit_schema(df, "t.csv", TabularOptions()))[0] == ["count", "x"]
    small = TabularOptions(max_categorical_cardinality=100)
    assert _kinds(fit_schema(df, "t.csv", small))[1] == ["count"]


def test_fit_schema__overrides():
    options = TabularOptions(numeric_columns=["level"], categorical_columns=["height"])
    numeric, categorical = _kinds(fit_schema(tiny_table(), "t.csv", options))
    assert numeric == ["weight", "level"]
    assert categorical == ["height", "color", "active"]


def test_fit_schema__override_of_text_as_numeric_names_row():
    options = TabularOptions(numeric_columns=["color"])
    with pytest.raises(DataError, match=r"t\.csv, row 1 \(line 2\), column 'color': "
                                        r"expected a number, got 'red'"):
        fit_schema(tiny_table(), "t.csv", options, is_csv=True)


def test_fit_schema__override_of_unknown_column():
    with pytest.raises(DataError, match=r"options\.numeric_columns names column\(s\) \['nope'\]"):
        fit_schema(tiny_table(), "t.csv", TabularOptions(numeric_columns=["nope"]))


def test_fit_schema__override_in_both_lists():
    options = TabularOptions(numeric_columns=["level"], categorical_columns=["level"])
    with pytest.raises(DataError, match="both in options.numeric_columns"):
        fit_schema(tiny_table(), "t.csv", options)


def test_fit_schema__ignore_columns():
    state = fit_schema(tiny_table(), "t.csv", TabularOptions(), ["color", "level"])
    assert feature_names(state) == ["height", "weight", "active"]
    assert state["ignored"] == ["color", "level"]


def test_fit_schema__ignore_unknown_column():
    with pytest.raises(DataError, match=r"t\.csv: --ignore-columns \(options\.ignore_columns\) names column\(s\) "
                                        r"\['label'\] that the file does not have"):
        fit_schema(tiny_table(), "t.csv", TabularOptions(), ["label"])


def test_fit_schema__all_nan_column_dropped_with_warning():
    df = tiny_table().assign(empty=np.nan)
    with pytest.warns(DataWarning, match=r"column 'empty': every value is missing; column dropped"):
        state = fit_schema(df, "t.csv", TabularOptions())
    assert "empty" not in feature_names(state)
    assert state["dropped"] == [{"name": "empty", "reason": "all values missing"}]


def test_fit_schema__constant_column_dropped_with_warning():
    df = tiny_table().assign(const=3.5)
    with pytest.warns(DataWarning, match=r"column 'const': constant column"):
        state = fit_schema(df, "t.csv", TabularOptions())
    assert "const" not in feature_names(state)


def test_fit_schema__constant_column_warning_shows_the_value_as_written():
    df = tiny_table().assign(const=np.int64(7))
    with pytest.warns(DataWarning, match=r"\(every value is 7\); dropped") as caught:
        fit_schema(df, "t.csv", TabularOptions())
    assert "np." not in str(caught[0].message)


def test_fit_schema__constant_with_gaps_is_kept():
    df = tiny_table().assign(flag=[1.0, np.nan] * 6)
    assert "flag" in feature_names(fit_schema(df, "t.csv", TabularOptions()))


def test_fit_schema__single_column():
    with pytest.raises(DataError, match=r"t\.csv: 1 usable feature column.*expected at least 2"):
        fit_schema(pd.DataFrame({"x": [1.5, 2.5, 3.5]}), "t.csv", TabularOptions())


def test_fit_schema__too_few_after_ignore():
    with pytest.raises(DataError, match="expected at least 2"):
        fit_schema(tiny_table(), "t.csv", TabularOptions(),
                   ["weight", "color", "active", "level"])


def test_fit_schema__robust_scaling():
    df = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5, 1000.5], "c": list("ababa")})
    col = fit_schema(df, "t.csv", TabularOptions())["numeric"][0]
    assert col["median"] == 3.5
    assert col["scale"] == pytest.approx(2.0 / 1.349)


def test_fit_schema__vocab_min_frequency_and_order():
    df = pd.DataFrame({"c": ["a", "b", "b", "c", "c", "c"], "x": np.arange(6) + 0.5})
    state = fit_schema(df, "t.csv", TabularOptions(min_frequency=2))
    assert state["categorical"][0]["vocab"] == ["c", "b"]


def test_fit_schema__identifier_column_warns():
    df = pd.DataFrame({"id": [f"u{i}" for i in range(30)], "x": np.arange(30) + 0.5,
                       "y": np.arange(30) * 0.1})
    with pytest.warns(DataWarning, match=r"column 'id': a different value in every row"):
        fit_schema(df, "t.csv", TabularOptions())


def _spoiled(rows: int = 40) -> pd.DataFrame:
    x = (np.arange(rows) * 1.25).astype(object)
    x[7] = "?"
    return pd.DataFrame({"x": x, "y": np.arange(rows) * 0.5})


def test_fit_schema__numbers_spoiled_by_placeholder(tmp_path):
    _spoiled().to_csv(tmp_path / "q.csv", index=False)
    from modalities.tabular.reader import read_table

    df = read_table(tmp_path / "q.csv")
    with pytest.raises(DataError, match=r"q\.csv, row 8 \(line 9\), column 'x': column is numeric "
                                        r"except for 1 value\(s\) such as \['\?'\]"):
        fit_schema(df, str(tmp_path / "q.csv"), TabularOptions(), is_csv=True)
    options = TabularOptions(na_values=["?"])
    state = fit_schema(read_table(tmp_path / "q.csv", options), "q.csv", options)
    assert [c["name"] for c in state["numeric"]] == ["x", "y"]


def test_fit_schema__numbers_stored_as_text_are_numeric():
    df = pd.DataFrame({"x": [str(v) for v in np.arange(40) * 1.25], "y": np.arange(40) * 0.5})
    assert _kinds(fit_schema(df, "t.parquet", TabularOptions()))[0] == ["x", "y"]


def test_fit_schema__unsupported_column_type():
    df = tiny_table().assign(when=pd.date_range("2024-01-01", periods=12))
    with pytest.raises(DataError, match=r"column 'when': column type datetime64.*not supported"):
        fit_schema(df, "t.parquet", TabularOptions())
    state = fit_schema(df, "t.parquet", TabularOptions(categorical_columns=["when"]))
    assert "when" in feature_names(state)


def test_fit_schema__a_saved_index_column_is_flagged():
    df = tiny_table().reset_index().rename(columns={"index": "Unnamed: 0"})
    with pytest.warns(DataWarning, match=r"column 'Unnamed: 0': has no name in the header and "
                                         r"counts the rows \(0, 1, \.\.\. 11\).*index=False"):
        state = fit_schema(df, "t.csv", TabularOptions(max_categorical_cardinality=5))
    assert "Unnamed: 0" in feature_names(state)  # still a feature: only the user knows


def test_fit_schema__a_row_id_is_flagged_but_shuffled_integers_are_not(recwarn):
    df = tiny_table().assign(id=np.arange(100, 112))
    with pytest.warns(DataWarning, match=r"column 'id': counts the rows \(100, 101, \.\.\. 111\)"):
        fit_schema(df, "t.csv", TabularOptions(max_categorical_cardinality=5))
    shuffled = tiny_table().assign(id=np.random.default_rng(0).permutation(12) + 100)
    fit_schema(shuffled, "t.csv", TabularOptions(max_categorical_cardinality=5))
    assert not [w for w in recwarn if "counts the rows" in str(w.message)]
