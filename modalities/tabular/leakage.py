"""Probe-time check for features that give the label away (a column derived from it).

A table often carries a column computed from the label (a price band next to the price, a
code next to the class name). Left among the pretraining features, it lets every probe,
the raw baseline included, read the label off one column, so the scores say nothing about
the encoder. :func:`leaking_features` finds such columns so the probe can warn.
"""

from __future__ import annotations

import numpy as np

from .transform import EncodedTable

#: |Pearson r| above which a numeric feature counts as a copy of a numeric label.
MAX_CORRELATION = 0.99
#: A column with more distinct values than this fraction of the rows is an identifier, not a leak.
MAX_GROUP_FRACTION = 0.5
#: A numeric feature missing in more than this fraction of the rows is not checked.
MAX_MISSING_FRACTION = 0.1
#: Each value group (categorical) or class (numeric) needs this many rows to count: on a
#: handful of rows a column can line up with the label by chance.
MIN_ROWS_PER_GROUP = 5


def _one_value_per_group(groups: np.ndarray, targets: np.ndarray) -> bool:
    """Whether each group holds a single target value (and there are few groups)."""
    _, counts = np.unique(groups, return_counts=True)
    n_groups = len(counts)
    if n_groups < 2 or n_groups > MAX_GROUP_FRACTION * len(groups) or counts.min() < MIN_ROWS_PER_GROUP:
        return False
    pairs = np.stack([groups, np.unique(targets, return_inverse=True)[1]], axis=1)
    return len(np.unique(pairs, axis=0)) == n_groups


def _separates_classes(x: np.ndarray, targets: np.ndarray) -> bool:
    """Whether the classes occupy disjoint value ranges of ``x`` (thresholds split them)."""
    classes, counts = np.unique(targets, return_counts=True)
    if len(classes) < 2 or counts.min() < MIN_ROWS_PER_GROUP:
        return False
    ranges = sorted((x[targets == c].min(), x[targets == c].max()) for c in classes)
    return all(hi < lo_next for (_, hi), (lo_next, _) in zip(ranges, ranges[1:]))


def leaking_features(table: EncodedTable, state: dict, targets: np.ndarray, task: str,
                     exclude: str | None = None) -> list[tuple[str, str]]:
    """Features from which the label follows (near) perfectly, with how.

    Classification: a categorical feature whose every value holds one class, or a numeric
    feature whose classes lie in disjoint ranges (each group or class with at least
    :data:`MIN_ROWS_PER_GROUP` rows). Regression: a numeric feature with
    ``|r| > 0.99``, or a categorical one whose every value holds one label value.

    Args:
        table: the probe rows encoded with the run's schema.
        state: that schema.
        targets: ``[S]`` encoded labels.
        task: ``classification`` or ``regression``.
        exclude: a feature already hidden from the probe.

    Returns:
        ``(column, reason)`` pairs, in token order.

    Examples:
        >>> y = np.repeat([0, 1], 6)
        >>> t = EncodedTable(np.arange(12, dtype=np.float32)[:, None], np.zeros((12, 1), bool),
        ...                  (2 + (np.arange(12) % 3))[:, None])
        >>> st = {"numeric": [{"name": "x"}], "categorical": [{"name": "code"}]}
        >>> leaking_features(t, st, y, "classification")
        [('x', 'its value ranges separate the classes')]
    """
    found = []
    for j, col in enumerate(state["numeric"]):
        if col["name"] == exclude:
            continue
        seen = ~table.num_missing[:, j]
        if seen.mean() < 1 - MAX_MISSING_FRACTION or seen.sum() < 3:
            continue
        x, y = table.num[seen, j].astype(np.float64), targets[seen]
        if task == "classification":
            if _separates_classes(x, y):
                found.append((col["name"], "its value ranges separate the classes"))
        elif x.std() > 0 and np.std(y) > 0:
            r = float(np.corrcoef(x, y.astype(np.float64))[0, 1])
            if abs(r) > MAX_CORRELATION:
                found.append((col["name"], f"r = {r:.3f} with the label"))
    for j, col in enumerate(state["categorical"]):
        if col["name"] != exclude and _one_value_per_group(table.cat[:, j], targets):
            found.append((col["name"], "each of its values goes with a single label value"))
    return found
