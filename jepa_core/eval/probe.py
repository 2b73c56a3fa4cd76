"""Linear probes: how much a representation tells about a label, on a held-out split."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import accuracy_score, confusion_matrix, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

METRICS = {"classification": ("accuracy", "miou"), "regression": ("r2",)}


def split_indices(num_samples: int, labels: np.ndarray | None, test_size: float = 0.25,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A held-out split of sample indices, stratified when every class has two members."""
    idx = np.arange(num_samples)
    stratify = None
    if labels is not None:
        _, counts = np.unique(labels, return_counts=True)
        stratify = labels if counts.min() >= 2 else None
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)


def mean_iou(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean intersection-over-union over the classes present in truth or prediction.

    Examples:
        >>> mean_iou(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
        0.5833333333333333
    """
    labels = np.union1d(y_true, y_pred)
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    inter = np.diag(cm)
    union = cm.sum(0) + cm.sum(1) - inter
    return float(np.mean(inter / np.maximum(union, 1)))


def _score(metric: str, y_true: np.ndarray, y_pred: np.ndarray) -> float:
    if metric == "accuracy":
        return float(accuracy_score(y_true, y_pred))
    if metric == "miou":
        return mean_iou(y_true, y_pred)
    return float(r2_score(y_true, y_pred))


def linear_probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                 task: str, metrics: str | tuple[str, ...], seed: int = 0) -> float | dict[str, float]:
    """Fit on standardized features, score on the held-out part.

    Classification uses multinomial logistic regression, regression ridge with its
    strength chosen by leave-one-out cross-validation on the training part.

    Args:
        metrics: one metric name (returns a float) or several (returns ``{name: score}``,
            all from the same fit).
    """
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for metric in names:
        if metric not in METRICS.get(task, ()):
            raise ValueError(f"metric {metric!r} does not fit task {task!r}")
    if task == "classification":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    else:
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    model.fit(x_train, y_train)
    pred = model.predict(x_test)
    scores = {m: _score(m, y_test, pred) for m in names}
    return scores[metrics] if isinstance(metrics, str) else scores


def probe_features(features: np.ndarray, targets: np.ndarray, task: str, metrics: str | tuple[str, ...],
                   train: np.ndarray, test: np.ndarray) -> float | dict[str, float]:
    """Probe per-sample features ``[S, D]`` or per-token features ``[S, N, D]``.

    Token-level targets are ``[S, N]`` with ``-1`` for tokens without a label; the split
    is by sample, so no sample has tokens on both sides.
    """
    if features.ndim == 2:
        return linear_probe(features[train], targets[train], features[test], targets[test], task, metrics)

    def flat(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f, t = features[rows].reshape(-1, features.shape[-1]), targets[rows].reshape(-1)
        keep = t >= 0
        return f[keep], t[keep]

    return linear_probe(*flat(train), *flat(test), task, metrics)
