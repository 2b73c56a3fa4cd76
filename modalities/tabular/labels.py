"""Probe labels: read the label column, infer the task, encode the targets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from jepa_core.modality import DataError

from .columns import CATEGORICAL, category_keys, infer_kind
from .errors import where

TASKS = ("classification", "regression")


@dataclass
class Labels:
    """Encoded labels.

    Args:
        targets: ``[S]`` int64 class indices (classification) or float64 values (regression).
        task: ``classification`` or ``regression``.
        classes: the class names in index order (classification only).
    """

    targets: np.ndarray
    task: str
    classes: list[str] | None = None


def encode_labels(series: pd.Series, task: str | None, path: str, max_cardinality: int,
                  is_csv: bool = False) -> Labels:
    """Encode a label column that has no missing value.

    Args:
        series: the label column (rows with a missing label already dropped).
        task: ``classification``, ``regression``, or ``None`` to infer: strings, booleans
            and integers with at most ``max_cardinality`` distinct values are classes.
        path: the file, for messages.
        max_cardinality: see above.
        is_csv: whether row numbers in messages also get a CSV line number.

    Returns:
        The targets and the task.

    Raises:
        DataError: an unknown task, text labels for regression, or fewer than two classes.

    Examples:
        >>> encode_labels(pd.Series(["b", "a", "b"], name="y"), None, "t.csv", 20).targets.tolist()
        [1, 0, 1]
    """
    name = str(series.name)
    if task is not None and task not in TASKS:
        raise DataError(f"unknown probe task {task!r}; expected one of {list(TASKS)}")
    if task is None:
        task = "classification" if infer_kind(series, max_cardinality) == CATEGORICAL \
            else "regression"
    if task == "regression":
        values = pd.to_numeric(series.astype(object), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(values)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(f"{where(path, int(series.index[pos]), name, is_csv)}: regression "
                            f"label is {series.iloc[pos]!r}; expected a finite number (or use "
                            f"--task classification)")
        return Labels(targets=values, task=task)
    keys = category_keys(series)
    classes = sorted(keys.unique().tolist())
    if len(classes) < 2:
        raise DataError(f"{where(path, column=name)}: the label has a single class "
                        f"{classes[0]!r} in {len(series)} rows; expected at least two "
                        f"classes for a classification probe")
    index = {c: i for i, c in enumerate(classes)}
    return Labels(targets=np.array([index[k] for k in keys.tolist()], dtype=np.int64),
                  task=task, classes=classes)
