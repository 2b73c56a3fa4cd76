"""Weighted k-nearest-neighbour probes on frozen features, as in the SSL papers.

Each test feature votes among its ``k`` most cosine-similar training features, each
neighbour weighted by ``exp(similarity / temperature)`` (Wu et al. 2018; DINO, Caron et
al. 2021: ``k=20``, ``temperature=0.07``). Classification takes the class with the most
weight; regression the weighted mean of the neighbours' targets. Nothing is fitted, so
it is cheap enough to run during training (:mod:`jepa_core.train.online_probe`).
"""

from __future__ import annotations

import numpy as np
import torch

from .probe import METRICS, flatten_tokens, score

#: DINO's neighbour count and softmax temperature.
DEFAULT_K = 20
DEFAULT_TEMPERATURE = 0.07

#: Similarity entries computed at once (test rows x training rows), bounding memory.
_CHUNK_ELEMENTS = 1 << 24


def _normalized(x: np.ndarray, mean: np.ndarray | None, scale: np.ndarray | None,
                device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
    if mean is not None:
        t = (t - torch.as_tensor(mean, device=device)) / torch.as_tensor(scale, device=device)
    return torch.nn.functional.normalize(t, dim=-1)


def knn_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, task: str,
                k: int = DEFAULT_K, temperature: float = DEFAULT_TEMPERATURE,
                standardize: bool = True, device: torch.device | str = "cpu") -> np.ndarray:
    """Predictions for ``x_test`` by temperature-weighted votes of the ``k`` nearest neighbours.

    Args:
        x_train: training features; y_train: their labels (class ids or values).
        x_test: features to predict.
        task: ``classification`` (weighted vote) or ``regression`` (weighted mean).
        k: neighbours per prediction (at most the number of training rows).
        temperature: the softmax temperature of the similarity weights.
        standardize: center and scale each dimension by the training rows' mean and std
            before the cosine similarity, so that a raw feature with large values does
            not decide alone; ``False`` is the papers' recipe on already normalized
            embeddings.
        device: where the similarities are computed.

    Returns:
        ``[n_test]`` predicted classes (the labels' dtype) or values (float64).

    Shapes:
        x_train ``[n_train, D]``, y_train ``[n_train]``, x_test ``[n_test, D]``.

    Examples:
        >>> x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> knn_predict(x, np.array([0, 0, 1]), np.array([[0.1, 1.0]]), "classification",
        ...             k=2, standardize=False)
        array([1])
    """
    if task not in METRICS:
        raise ValueError(f"task must be one of {sorted(METRICS)}, got {task!r}")
    if len(x_train) == 0:
        raise ValueError("the kNN probe needs at least one training row")
    if k < 1 or not temperature > 0:
        raise ValueError(f"the kNN probe needs k >= 1 and temperature > 0, got k={k}, "
                         f"temperature={temperature}")
    device = torch.device(device)
    mean = scale = None
    if standardize:
        mean = x_train.mean(axis=0).astype(np.float32)
        std = x_train.std(axis=0).astype(np.float32)
        scale = np.where(std > 1e-8, std, 1.0).astype(np.float32)
    train = _normalized(x_train, mean, scale, device)
    test = _normalized(x_test, mean, scale, device)
    k = min(k, len(x_train))
    if task == "classification":
        classes, codes = np.unique(y_train, return_inverse=True)
        codes = torch.as_tensor(codes, device=device)
    else:
        values = torch.as_tensor(np.asarray(y_train, dtype=np.float64), device=device)
    rows = max(1, _CHUNK_ELEMENTS // max(1, len(x_train)))
    out = []
    for start in range(0, len(test), rows):
        sims, idx = (test[start:start + rows] @ train.T).topk(k, dim=1)
        weights = (sims.double() / temperature).exp()
        if task == "classification":
            votes = torch.zeros(len(idx), len(classes), dtype=torch.float64, device=device)
            votes.scatter_add_(1, codes[idx], weights)
            out.append(votes.argmax(dim=1).cpu().numpy())
        else:
            out.append(((weights * values[idx]).sum(1) / weights.sum(1)).cpu().numpy())
    pred = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    return classes[pred] if task == "classification" else pred


def knn_probe(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
              task: str, metrics: str | tuple[str, ...], k: int = DEFAULT_K,
              temperature: float = DEFAULT_TEMPERATURE, standardize: bool = True,
              device: torch.device | str = "cpu") -> float | dict[str, float]:
    """Score :func:`knn_predict` on the held-out rows: the same metrics as the linear probe.

    Args:
        metrics: one metric name (returns a float) or several (returns ``{name: score}``).
        k, temperature, standardize, device: see :func:`knn_predict`.
    """
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for metric in names:
        if metric not in METRICS.get(task, ()):
            raise ValueError(f"metric {metric!r} does not fit task {task!r}")
    pred = knn_predict(x_train, y_train, x_test, task, k, temperature, standardize, device)
    scores = {m: score(m, y_test, pred) for m in names}
    return scores[metrics] if isinstance(metrics, str) else scores


def knn_probe_features(features: np.ndarray, targets: np.ndarray, task: str,
                       metrics: str | tuple[str, ...], train: np.ndarray, test: np.ndarray,
                       k: int = DEFAULT_K, temperature: float = DEFAULT_TEMPERATURE,
                       device: torch.device | str = "cpu") -> float | dict[str, float]:
    """kNN-probe per-sample features ``[S, D]`` or per-token features ``[S, N, D]``.

    Like :func:`~jepa_core.eval.probe.probe_features`: token-level targets are ``[S, N]``
    with ``-1`` for tokens without a label, and the split is by sample.
    """
    if features.ndim == 2:
        return knn_probe(features[train], targets[train], features[test], targets[test], task, metrics,
                         k, temperature, device=device)
    x_train, y_train, _ = flatten_tokens(features, targets, train)
    x_test, y_test, _ = flatten_tokens(features, targets, test)
    return knn_probe(x_train, y_train, x_test, y_test, task, metrics, k, temperature, device=device)
