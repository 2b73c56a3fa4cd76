"""Apply a fitted schema to a table: standardized numerics, missing flags, category indices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from jepa_core.modality import DataError

from .columns import category_keys, numeric_values
from .errors import warn, where
from .schema import check_state

MISSING_INDEX = 0
"""Category index of a missing value (row 0 of every column's embedding table)."""
UNKNOWN_INDEX = 1
"""Category index of a value not in the vocabulary (row 1 of every column's table)."""
FIRST_VALUE_INDEX = 2
"""Category index of ``vocab[0]``."""


@dataclass
class EncodedTable:
    """A table encoded by a schema.

    Shapes:
        num ``[S, Fn]`` float32 (standardized, clipped; 0 where missing),
        num_missing ``[S, Fn]`` bool, cat ``[S, Fc]`` int64 (0 missing, 1 unknown,
        ``2 + k`` for ``vocab[k]``).
    """

    num: np.ndarray
    num_missing: np.ndarray
    cat: np.ndarray

    def __len__(self) -> int:
        return self.num.shape[0]


def apply_schema(df: pd.DataFrame, state: dict, path: str, is_csv: bool = False,
                 warn_unknown: bool = False) -> EncodedTable:
    """Encode ``df`` with ``state`` exactly as when it was fitted (nothing is refitted).

    Columns of ``df`` that are not features are ignored. Infinite numerics become missing
    values, with a warning. Categories outside a column's vocabulary share its unknown
    index; with ``warn_unknown`` (a table other than the one just fitted) that is warned
    about once per column.

    Args:
        df: the table.
        state: the schema from :func:`~modalities.tabular.schema.fit_schema`.
        path: the file, for messages.
        is_csv: whether row numbers in messages also get a CSV line number.
        warn_unknown: warn about categories the vocabulary lacks.

    Returns:
        The encoded table.

    Raises:
        DataError: a feature column is absent, or a numeric column holds text.
    """
    check_state(state)
    names = [c["name"] for c in state["numeric"]] + [c["name"] for c in state["categorical"]]
    absent = [n for n in names if n not in df.columns]
    if absent:
        raise DataError(f"{path}: missing feature column(s) {absent} that the model was "
                        f"trained with; expected all of {names}")
    s = len(df)
    clip = float(state["clip"])
    num = np.zeros((s, len(state["numeric"])), dtype=np.float32)
    num_missing = np.zeros((s, len(state["numeric"])), dtype=bool)
    for j, col in enumerate(state["numeric"]):
        v = numeric_values(df[col["name"]], path, is_csv)
        missing = np.isnan(v)
        z = np.clip((v - col["median"]) / col["scale"], -clip, clip)
        num[:, j] = np.where(missing, 0.0, z)
        num_missing[:, j] = missing
    cat = np.zeros((s, len(state["categorical"])), dtype=np.int64)
    for j, col in enumerate(state["categorical"]):
        lookup = {k: FIRST_VALUE_INDEX + i for i, k in enumerate(col["vocab"])}
        keys = category_keys(df[col["name"]])
        cat[:, j] = [MISSING_INDEX if not isinstance(k, str) else lookup.get(k, UNKNOWN_INDEX)
                     for k in keys.tolist()]
        if warn_unknown:
            _warn_unknown(keys[cat[:, j] == UNKNOWN_INDEX], path, col["name"])
    return EncodedTable(num=num, num_missing=num_missing, cat=cat)


def _warn_unknown(keys: pd.Series, path: str, name: str) -> None:
    """One warning for the rows of column ``name`` whose category the vocabulary lacks."""
    if not len(keys):
        return
    values = sorted(set(keys.tolist()))
    shown = ", ".join(repr(v) for v in values[:3]) + (", ..." if len(values) > 3 else "")
    warn(f"{where(path, column=name)}: {len(keys)} row(s) hold {len(values)} categor"
         f"{'y' if len(values) == 1 else 'ies'} the run's vocabulary lacks ({shown}): new since "
         f"pretraining, or too rare to be kept (options.min_frequency, max_vocab_size); they "
         f"share the column's unknown-category embedding")


def hide_feature(table: EncodedTable, state: dict, name: str) -> None:
    """Mark feature ``name`` missing in every row (in place), e.g. a label being probed."""
    numeric = [c["name"] for c in state["numeric"]]
    categorical = [c["name"] for c in state["categorical"]]
    if name in numeric:
        j = numeric.index(name)
        table.num[:, j] = 0.0
        table.num_missing[:, j] = True
    elif name in categorical:
        table.cat[:, categorical.index(name)] = MISSING_INDEX
