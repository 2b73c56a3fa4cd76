"""Raw-feature baseline for probes: the same encoded table, flattened for a linear model."""

from __future__ import annotations

import numpy as np

from .transform import FIRST_VALUE_INDEX, EncodedTable


def raw_features(table: EncodedTable, state: dict, exclude: str | None = None) -> np.ndarray:
    """Standardized numerics (0 where missing), missing indicators, one-hot categoricals.

    Built from the same fitted state as the tokens, so the baseline sees exactly what the
    encoder sees. Each categorical column gets ``len(vocab) + 2`` one-hot columns
    (missing, unknown, then the vocabulary).

    Args:
        table: the encoded table.
        state: the schema it was encoded with.
        exclude: a feature left out entirely (the label being probed).

    Returns:
        ``[S, F_raw]`` float32.

    Examples:
        >>> t = EncodedTable(np.array([[0.5]], np.float32), np.array([[False]]),
        ...                  np.array([[2]], np.int64))
        >>> st = {"numeric": [{"name": "x"}], "categorical": [{"name": "c", "vocab": ["a"]}]}
        >>> raw_features(t, st).tolist()
        [[0.5, 0.0, 0.0, 0.0, 1.0]]
    """
    blocks = []
    for j, col in enumerate(state["numeric"]):
        if col["name"] == exclude:
            continue
        blocks.append(table.num[:, j:j + 1].astype(np.float32))
        blocks.append(table.num_missing[:, j:j + 1].astype(np.float32))
    for j, col in enumerate(state["categorical"]):
        if col["name"] == exclude:
            continue
        onehot = np.zeros((len(table), len(col["vocab"]) + FIRST_VALUE_INDEX), dtype=np.float32)
        onehot[np.arange(len(table)), table.cat[:, j]] = 1.0
        blocks.append(onehot)
    if not blocks:
        return np.zeros((len(table), 0), dtype=np.float32)
    return np.concatenate(blocks, axis=1)
