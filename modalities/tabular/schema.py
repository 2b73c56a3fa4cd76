"""Fit a table's schema: which columns are features, their kind, scaling and vocabularies.

The schema is the plugin's JSON-serializable ``state``: it is saved in the run directory
and applied unchanged (no refitting) at embed and probe time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jepa_core.modality import DataError

from .columns import CATEGORICAL, EMPTY, NUMERIC, category_keys, infer_kind, numeric_values
from .errors import warn, where
from .options import PLE_EMBEDDINGS, TabularOptions
from .ple import fit_ple_edges

FORMAT = "jepa_core.tabular/1"
MIN_FEATURES = 2
IQR_TO_STD = 1.349  # the IQR of a normal distribution, in standard deviations


def fit_schema(df: pd.DataFrame, path: str, options: TabularOptions,
               ignore_columns: list[str] | tuple[str, ...] = (), is_csv: bool = False) -> dict:
    """Infer column kinds and fit scaling and vocabularies on ``df``.

    Numeric columns are standardized robustly: ``(x - median) / (IQR / 1.349)``, falling
    back to the standard deviation (then 1) when the IQR is 0. Categorical columns keep the
    values seen at least ``min_frequency`` times (at most ``max_vocab_size``, most frequent
    first). A column with no value is dropped with a warning; so is a constant column with
    no missing value (it carries no information). A constant column with missing values is
    kept: its missingness is information. With ``options.numeric_embedding`` ``ple`` or
    ``linear_ple``, each numeric column also gets its quantile bin edges (``ple_edges``, on
    the standardized, clipped values the tokenizer sees) and the state records ``ple_bins``.

    Args:
        df: the table.
        path: the file, for messages.
        options: the ``options:`` section.
        ignore_columns: columns never used as features.
        is_csv: whether row numbers in messages also get a CSV line number.

    Returns:
        The state: ``{"format", "numeric": [{"name", "median", "scale"}],
        "categorical": [{"name", "vocab"}], "clip", "ignored", "dropped"}`` (plus
        ``"ple_bins"`` and each numeric column's ``"ple_edges"`` for the ``ple`` embeddings).

    Raises:
        DataError: an ignored or overridden column does not exist, a column is both
            numeric and categorical, a forced-numeric column holds text, or fewer than
            two feature columns are left.
    """
    columns = list(df.columns)
    _check_exist(path, columns, ignore_columns, "--ignore-columns (options.ignore_columns)")
    _check_exist(path, columns, options.numeric_columns, "options.numeric_columns")
    _check_exist(path, columns, options.categorical_columns, "options.categorical_columns")
    both = sorted(set(options.numeric_columns) & set(options.categorical_columns))
    if both:
        raise DataError(f"{path}: column(s) {both} are listed both in options.numeric_columns "
                        f"and options.categorical_columns; expected one kind per column")
    numeric, categorical, dropped = [], [], []
    for name in columns:
        if name in ignore_columns:
            continue
        kind = _kind(df[name], path, options, is_csv)
        if kind == EMPTY:
            warn(f"{where(path, column=name)}: every value is missing; column dropped")
            dropped.append({"name": name, "reason": "all values missing"})
            continue
        s = df[name]
        if s.nunique(dropna=True) <= 1 and not s.isna().any():
            value = s.iloc[0]
            value = value.item() if isinstance(value, np.generic) else value
            warn(f"{where(path, column=name)}: constant column (every value is "
                 f"{value!r}); dropped")
            dropped.append({"name": name, "reason": "constant"})
            continue
        if kind == NUMERIC:
            numeric.append(_fit_numeric(s, path, is_csv))
            _warn_if_row_counter(s, path)
            if options.numeric_embedding in PLE_EMBEDDINGS:
                numeric[-1]["ple_edges"] = _fit_edges(s, numeric[-1], options, path, is_csv)
        else:
            categorical.append(_fit_categorical(s, path, options))
    n = len(numeric) + len(categorical)
    if n < MIN_FEATURES:
        raise DataError(f"{path}: {n} usable feature column(s) (of {len(columns)} columns, "
                        f"{len(ignore_columns)} ignored, {len(dropped)} dropped); expected at "
                        f"least {MIN_FEATURES}, so that context and target feature sets can "
                        f"be drawn")
    state = {"format": FORMAT, "numeric": numeric, "categorical": categorical,
             "clip": float(options.clip), "ignored": list(ignore_columns), "dropped": dropped}
    if options.numeric_embedding in PLE_EMBEDDINGS:
        state["ple_bins"] = int(options.ple_bins)
    return state


def feature_names(state: dict) -> list[str]:
    """Token order of the features: numeric columns first, then categorical ones."""
    return [c["name"] for c in state["numeric"]] + [c["name"] for c in state["categorical"]]


def check_state(state: dict) -> None:
    """Raise ``DataError`` when ``state`` is not a tabular schema this version can apply."""
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        found = state.get("format") if isinstance(state, dict) else type(state).__name__
        raise DataError(f"the saved tabular state has format {found!r}; expected {FORMAT!r}")


def _check_exist(path: str, columns: list[str], names, what: str) -> None:
    missing = [c for c in names if c not in columns]
    if missing:
        raise DataError(f"{path}: {what} names column(s) {missing} that the file does not "
                        f"have; its columns are {columns}")


def _kind(series: pd.Series, path: str, options: TabularOptions, is_csv: bool) -> str:
    if series.isna().all():
        return EMPTY
    if series.name in options.numeric_columns:
        return NUMERIC
    if series.name in options.categorical_columns:
        return CATEGORICAL
    if not _supported(series):
        raise DataError(f"{where(path, column=series.name)}: column type {series.dtype} is not "
                        f"supported; expected numbers, text or booleans (convert it, list it "
                        f"in options.categorical_columns, or pass it in --ignore-columns)")
    kind = infer_kind(series, options.max_categorical_cardinality)
    if kind == CATEGORICAL and not pd.api.types.is_numeric_dtype(series):
        parsed = pd.to_numeric(series.dropna().astype(object), errors="coerce")
        if parsed.notna().all():  # numbers stored as text
            return infer_kind(parsed, options.max_categorical_cardinality)
        _check_not_numeric_text(series, path, options, is_csv)
    return kind


def _supported(series: pd.Series) -> bool:
    dtype = series.dtype
    if pd.api.types.is_complex_dtype(dtype):
        return False
    return not (pd.api.types.is_datetime64_any_dtype(dtype)
                or pd.api.types.is_timedelta64_dtype(dtype)
                or isinstance(dtype, pd.PeriodDtype) or isinstance(dtype, pd.IntervalDtype))


def _check_not_numeric_text(series: pd.Series, path: str, options: TabularOptions,
                            is_csv: bool) -> None:
    """Error on a column of numbers spoiled by a few placeholder strings such as ``?``."""
    values = series.dropna()
    parsed = pd.to_numeric(values.astype(object), errors="coerce")
    bad = parsed.isna()
    if bad.mean() > 0.05 or parsed.nunique() <= options.max_categorical_cardinality:
        return
    pos = int(np.flatnonzero(bad.to_numpy())[0])
    text = sorted(values[bad].astype(str).unique().tolist())[:5]
    raise DataError(f"{where(path, int(values.index[pos]), series.name, is_csv)}: column is "
                    f"numeric except for {int(bad.sum())} value(s) such as {text}; add them to "
                    f"options.na_values if they mean missing, or list the column in "
                    f"options.categorical_columns")


def _warn_if_row_counter(series: pd.Series, path: str) -> None:
    """Warn about a column that only counts the rows (a saved DataFrame index, a row id).

    Such a column (distinct integers, consecutive, in row order) tells the rows apart by
    position only; as a feature it gives every table order a meaning it rarely has.
    """
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if len(values) < 3 or not np.isfinite(values).all() or not (values == np.round(values)).all():
        return
    step = np.diff(values)
    if not ((step == 1).all() or (step == -1).all()):
        return
    name = str(series.name)
    unnamed = name.startswith("Unnamed: ")
    what = "has no name in the header and counts" if unnamed else "counts"
    hint = " (a DataFrame index saved with to_csv? save with index=False)" if unnamed else \
        " (a row id?)"
    warn(f"{where(path, column=name)}: {what} the rows ({values[0]:.0f}, {values[1]:.0f}, ... "
         f"{values[-1]:.0f}){hint}; it is used as a feature: pass it in --ignore-columns if "
         f"it is not one")


def _fit_numeric(series: pd.Series, path: str, is_csv: bool) -> dict:
    v = numeric_values(series, path, is_csv, warn_inf=False)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return {"name": series.name, "median": 0.0, "scale": 1.0}
    median = float(np.median(v))
    q25, q75 = np.percentile(v, [25, 75])
    scale = float(q75 - q25) / IQR_TO_STD
    if not scale > 0:
        scale = float(np.std(v))
    if not scale > 0:
        scale = 1.0
    return {"name": series.name, "median": median, "scale": scale}


def _fit_edges(series: pd.Series, col: dict, options: TabularOptions, path: str,
               is_csv: bool) -> list[float]:
    """PLE bin edges of a numeric column, on its values standardized as ``apply_schema`` does."""
    v = numeric_values(series, path, is_csv, warn_inf=False)
    v = v[np.isfinite(v)]
    z = np.clip((v - col["median"]) / col["scale"], -options.clip, options.clip)
    return fit_ple_edges(z, options.ple_bins)


def _fit_categorical(series: pd.Series, path: str, options: TabularOptions) -> dict:
    keys = category_keys(series).dropna()
    counts = keys.value_counts()
    counts = counts[counts >= options.min_frequency]
    order = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    vocab = [k for k, _ in order[:options.max_vocab_size]]
    if len(keys) > options.max_categorical_cardinality and keys.nunique() == len(keys) \
            and not pd.api.types.is_numeric_dtype(series):
        warn(f"{where(path, column=series.name)}: a different value in every row (an "
             f"identifier?); pass it in --ignore-columns if it is not a feature")
    return {"name": series.name, "vocab": vocab}
