"""The kNN probe against scikit-learn's brute-force neighbours with the DINO weighting."""

import numpy as np
import pytest
from sklearn.metrics import r2_score
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from jepa_core.eval import knn_predict, knn_probe, knn_probe_features, mean_iou
from jepa_core.eval.knn import DEFAULT_K, DEFAULT_TEMPERATURE


def dino_weights(distances: np.ndarray) -> np.ndarray:
    """exp(similarity / T) from scikit-learn's cosine distances (1 - similarity)."""
    return np.exp((1.0 - distances) / DEFAULT_TEMPERATURE)


def blobs(n: int, d: int = 8, classes: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, d)) * 1.5
    y = rng.integers(0, classes, n)
    return (centers[y] + rng.standard_normal((n, d))).astype(np.float32), y


def test_knn_predict__classification_matches_sklearn_cosine_with_dino_weights():
    x, y = blobs(300)
    x_train, y_train, x_test = x[:200], y[:200] + 10, x[200:]  # labels need not be 0..C-1
    ours = knn_predict(x_train, y_train, x_test, "classification", standardize=False)
    ref = KNeighborsClassifier(DEFAULT_K, metric="cosine", algorithm="brute", weights=dino_weights)
    np.testing.assert_array_equal(ours, ref.fit(x_train, y_train).predict(x_test))


def test_knn_predict__regression_is_the_weighted_mean_of_sklearn():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((250, 6)).astype(np.float32)
    y = x[:, 0] * 2 + np.sin(x[:, 1])
    ours = knn_predict(x[:200], y[:200], x[200:], "regression", standardize=False)
    ref = KNeighborsRegressor(DEFAULT_K, metric="cosine", algorithm="brute", weights=dino_weights)
    np.testing.assert_allclose(ours, ref.fit(x[:200], y[:200]).predict(x[200:]), rtol=1e-5, atol=1e-6)


def test_knn_predict__standardize_uses_training_statistics():
    x, y = blobs(200, seed=2)
    x = x * np.array([1000.0] + [1.0] * 7, dtype=np.float32)  # one huge raw column
    mean, std = x[:150].mean(0), x[:150].std(0)
    ours = knn_predict(x[:150], y[:150], x[150:], "classification")
    ref = KNeighborsClassifier(DEFAULT_K, metric="cosine", algorithm="brute", weights=dino_weights)
    expected = ref.fit((x[:150] - mean) / std, y[:150]).predict((x[150:] - mean) / std)
    np.testing.assert_array_equal(ours, expected)


def test_knn_predict__chunks_give_the_same_answer(monkeypatch):
    from jepa_core.eval import knn

    x, y = blobs(120, seed=3)
    whole = knn_predict(x[:100], y[:100], x[100:], "classification")
    monkeypatch.setattr(knn, "_CHUNK_ELEMENTS", 150)  # one test row at a time
    np.testing.assert_array_equal(knn_predict(x[:100], y[:100], x[100:], "classification"), whole)


def test_knn_predict__k_larger_than_the_training_set():
    x, y = blobs(30, seed=4)
    assert knn_predict(x[:5], y[:5], x[5:], "classification", k=50).shape == (25,)


def test_knn_probe__scores_and_metric_checks():
    x, y = blobs(400, seed=5)
    acc = knn_probe(x[:300], y[:300], x[300:], y[300:], "classification", "accuracy")
    assert 0.8 < acc <= 1.0
    noise = np.random.default_rng(0).standard_normal(x.shape).astype(np.float32)
    assert knn_probe(noise[:300], y[:300], noise[300:], y[300:], "classification", "accuracy") < 0.5
    rng = np.random.default_rng(6)
    xr = rng.standard_normal((300, 4)).astype(np.float32)
    yr = xr @ np.array([1.0, -1.0, 0.5, 0.0])
    r2 = knn_probe(xr[:200], yr[:200], xr[200:], yr[200:], "regression", ("r2",))
    pred = knn_predict(xr[:200], yr[:200], xr[200:], "regression")
    assert r2["r2"] == pytest.approx(r2_score(yr[200:], pred))
    with pytest.raises(ValueError, match="does not fit task"):
        knn_probe(xr, yr, xr, yr, "regression", "accuracy")


def test_knn_probe_features__token_level_uses_the_same_miou_and_skips_unlabelled():
    rng = np.random.default_rng(7)
    s, n = 20, 10
    targets = rng.integers(0, 3, (s, n))
    feats = (np.eye(3)[targets] * 3 + 0.3 * rng.standard_normal((s, n, 3))).astype(np.float32)
    targets[:, 0] = -1  # unlabelled tokens
    feats[:, 0] = 100.0  # ...that would be neighbours of nothing if they were kept
    train, test = np.arange(15), np.arange(15, 20)
    got = knn_probe_features(feats, targets, "classification", ("miou", "accuracy"), train, test)
    x_tr, y_tr = feats[train][:, 1:].reshape(-1, 3), targets[train][:, 1:].reshape(-1)
    x_te, y_te = feats[test][:, 1:].reshape(-1, 3), targets[test][:, 1:].reshape(-1)
    pred = knn_predict(x_tr, y_tr, x_te, "classification")
    assert got["miou"] == pytest.approx(mean_iou(y_te, pred))
    assert got["accuracy"] == pytest.approx(float((pred == y_te).mean()))
    assert got["miou"] > 0.9
