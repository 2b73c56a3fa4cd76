"""Column-level conversions shared by fitting and applying a schema: kinds, numbers, categories."""

from __future__ import annotations

import numpy as np
import pandas as pd

from jepa_core.modality import DataError

from .errors import warn, where

NUMERIC = "numeric"
CATEGORICAL = "categorical"
EMPTY = "empty"


def infer_kind(series: pd.Series, max_cardinality: int) -> str:
    """``numeric``, ``categorical`` or ``empty`` (no value at all) for one column.

    Strings, objects, booleans and integer-valued columns with at most ``max_cardinality``
    distinct values are categorical; other numbers are numeric.

    Examples:
        >>> infer_kind(pd.Series([1.5, 2.0, 7.25]), 20)
        'numeric'
        >>> infer_kind(pd.Series([2007, 2008, 2007]), 20)
        'categorical'
    """
    values = series.dropna()
    if len(values) == 0:
        return EMPTY
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return CATEGORICAL
    v = values.to_numpy(dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) and np.all(v == np.round(v)) and len(np.unique(v)) <= max_cardinality:
        return CATEGORICAL
    return NUMERIC


def numeric_values(series: pd.Series, path: str, is_csv: bool = False,
                   warn_inf: bool = True) -> np.ndarray:
    """The column as float64 with missing and infinite values as NaN.

    Args:
        series: one column.
        path: the file, for messages.
        is_csv: whether row numbers also get a CSV line number.
        warn_inf: warn when infinite values are turned into missing values.

    Returns:
        ``[S]`` float64; NaN marks a missing value.

    Raises:
        DataError: a present value is not a number (names its row and column).
    """
    if pd.api.types.is_bool_dtype(series):
        series = series.astype("float64")
    if pd.api.types.is_numeric_dtype(series):
        out = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        parsed = pd.to_numeric(series, errors="coerce")
        bad = parsed.isna() & series.notna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            row = int(series.index[pos])  # the file's row, also after rows were dropped
            raise DataError(f"{where(path, row, str(series.name), is_csv)}: expected a number, "
                            f"got {series.iloc[pos]!r} ({int(bad.sum())} such values in the "
                            f"column; list it in options.categorical_columns if it is a category)")
        out = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    inf = np.isinf(out)
    if inf.any():
        if warn_inf:
            warn(f"{where(path, column=str(series.name))}: {int(inf.sum())} infinite value(s) "
                 f"treated as missing")
        out = np.where(inf, np.nan, out)
    return out


def _key(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def category_keys(series: pd.Series) -> pd.Series:
    """The column's values as strings (``2007.0`` and ``2007`` give ``"2007"``), NaN kept.

    Examples:
        >>> category_keys(pd.Series([2007.0, None, "a"])).tolist()
        ['2007', nan, 'a']
    """
    out = pd.Series(np.nan, index=series.index, dtype=object)
    present = series.notna()
    out[present] = [_key(v) for v in series[present].tolist()]
    return out
