import numpy as np
import pytest

from jepa_core.eval import linear_probe, mean_iou, probe_features, split_indices
from jepa_core.eval.probe import LOGISTIC_CS, _folds, pick_logistic_c


def test_mean_iou__direct_formula():
    y_true = np.array([0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0])
    # class 0: inter 1, union 3; class 1: inter 2, union 3; class 2: inter 0, union 1
    assert mean_iou(y_true, y_pred) == pytest.approx((1 / 3 + 2 / 3 + 0) / 3)


def _confusion_matrix_miou(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The hand-written formula ``mean_iou`` had before it used ``jaccard_score``."""
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=np.union1d(y_true, y_pred))
    inter = np.diag(cm)
    return float(np.mean(inter / np.maximum(cm.sum(0) + cm.sum(1) - inter, 1)))


def test_mean_iou__same_numbers_as_the_confusion_matrix_formula():
    rng = np.random.default_rng(0)
    for _ in range(300):
        k, n = rng.integers(1, 12), rng.integers(2, 300)
        y_true = rng.integers(0, k, n)
        y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k + 2, n))  # + unseen classes
        assert mean_iou(y_true, y_pred) == _confusion_matrix_miou(y_true, y_pred)
    assert mean_iou(np.array([3, 3]), np.array([3, 3])) == 1.0


def test_linear_probe__informative_beats_noise_and_returns_all_metrics():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    good = np.eye(3)[y] + 0.3 * rng.standard_normal((400, 3))
    noise = rng.standard_normal((400, 3))
    train, test = split_indices(400, y)
    a = probe_features(good, y, "classification", ("accuracy", "miou"), train, test)
    b = probe_features(noise, y, "classification", "accuracy", train, test)
    assert set(a) == {"accuracy", "miou"} and a["accuracy"] > 0.9 > 0.5 > b


def test_probe_features__token_level_ignores_unlabelled_tokens():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, (20, 6))
    labels[:, 0] = -1
    feats = np.stack([labels, rng.standard_normal((20, 6))], axis=-1).astype(float)
    feats[:, 0, 0] = 100.0  # unlabelled tokens carry junk that must not matter
    train, test = split_indices(20, None)
    assert probe_features(feats, labels, "classification", "miou", train, test) == pytest.approx(1.0)


def test_split_indices__disjoint_and_stratified():
    y = np.array([0] * 40 + [1] * 8)
    train, test = split_indices(48, y)
    assert not set(train) & set(test) and len(train) + len(test) == 48
    assert (y[test] == 1).sum() == 2


def test_linear_probe__metric_must_fit_task():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="does not fit"):
        linear_probe(x, np.arange(4.0), x, np.arange(4.0), "regression", "accuracy")


def test_pick_logistic_c__a_hard_boundary_gets_weak_regularization():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 4))
    y = (x[:, 0] > 0).astype(int)  # noiseless threshold: the best fit needs large weights
    c = pick_logistic_c(x, y)
    assert c in LOGISTIC_CS and c >= 100


def test_folds__keep_each_group_on_one_side():
    y = np.tile([0, 1], 30)
    groups = np.repeat(np.arange(12), 5)
    for fit_rows, val_rows in _folds(y, groups, seed=0):
        assert not set(groups[fit_rows]) & set(groups[val_rows])


def test_linear_probe__classes_too_rare_to_stratify_still_fit():
    x = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [9.0]])
    y = np.array([0, 0, 0, 1, 1, 2])  # class 2 has one row: no stratified folds
    assert linear_probe(x, y, x, y, "classification", "accuracy", c=None) >= 5 / 6
