"""``jepa probe --probe linear|knn|attentive --shots K`` and ``jepa embed --tokens`` on the toy
modalities, in-process as in ``tests/test_cli.py``."""

import json

import numpy as np
import pytest

from jepa_core.registry import register_modality
from tests.test_cli import jepa
from tests.toy_modality import (ToyEventModality, ToyModality, ToyRawTokensModality, ToyTokenLabelModality,
                                write_toy_data, write_toy_events)

for _plugin in (ToyModality, ToyEventModality, ToyTokenLabelModality, ToyRawTokensModality):
    register_modality(_plugin.name, _plugin)


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    return write_toy_data(tmp_path_factory.mktemp("data") / "x.npy", rows=120)


def _run(tmp_path_factory, modality, data, *extra):
    out = tmp_path_factory.mktemp("runs") / modality
    proc = jepa("pretrain", modality, "--data", str(data), "--out", str(out), "--steps", "4", *extra)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def toy_run(toy_data, tmp_path_factory):
    return _run(tmp_path_factory, "toy", toy_data)


def _probe(run, data, *extra) -> dict:
    proc = jepa("probe", str(run), "--data", str(data), "--label", "sign", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("kind, raw_probe", [("linear", "linear"), ("knn", "knn"), ("attentive", "linear")])
def test_probe__each_kind_prints_the_same_json_shape(kind, raw_probe, toy_run, toy_data):
    result = _probe(toy_run, toy_data, "--probe", kind)
    assert set(result) == {"task", "metric", "probe", "pretrained", "random_init", "raw", "raw_probe",
                           "n_train", "n_test"}
    assert result["probe"] == kind and result["raw_probe"] == raw_probe
    assert result["task"] == "classification" and result["metric"] == "accuracy"
    assert all(0.0 <= result[k] <= 1.0 for k in ("pretrained", "random_init", "raw"))
    assert (result["n_train"], result["n_test"]) == (90, 30)


def test_probe__linear_is_the_default(toy_run, toy_data):
    assert _probe(toy_run, toy_data)["probe"] == "linear"


def test_probe__attentive_raw_baseline_uses_raw_tokens_when_given(toy_data, tmp_path_factory):
    run = _run(tmp_path_factory, "toy_raw_tokens", toy_data)
    result = _probe(run, toy_data, "--probe", "attentive")
    assert result["raw_probe"] == "attentive" and 0.0 <= result["raw"] <= 1.0


def test_probe__shots_takes_k_training_samples_per_class(toy_run, toy_data):
    result = _probe(toy_run, toy_data, "--probe", "knn", "--shots", "5")
    assert result["shots"] == 5 and result["n_train"] == 10 and result["n_test"] == 30


def test_probe__token_level_knn_reports_miou_and_accuracy(toy_data, tmp_path_factory):
    run = _run(tmp_path_factory, "toy_token_labels", toy_data)
    result = _probe(run, toy_data, "--probe", "knn")
    assert result["metric"] == "miou" and result["raw_probe"] == "knn"
    assert set(result["accuracy"]) == {"pretrained", "random_init", "raw"}
    proc = jepa("probe", str(run), "--data", str(toy_data), "--label", "sign", "--probe", "attentive")
    assert proc.returncode == 2 and "sample-level labels" in proc.stderr
    proc = jepa("probe", str(run), "--data", str(toy_data), "--label", "sign", "--shots", "3")
    assert proc.returncode == 2 and "--shots" in proc.stderr and "Traceback" not in proc.stderr


def test_probe__shots_below_one_is_a_clear_error(toy_run, toy_data):
    proc = jepa("probe", str(toy_run), "--data", str(toy_data), "--label", "sign", "--shots", "0")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --shots must be at least 1")


def test_embed__tokens_gives_per_token_features(toy_run, toy_data, tmp_path):
    proc = jepa("embed", str(toy_run), "--data", str(toy_data), "--out", str(tmp_path / "t.npy"), "--tokens")
    assert proc.returncode == 0, proc.stderr
    tokens = np.load(tmp_path / "t.npy")
    assert tokens.shape == (120, 6, 16) == tuple(json.loads(proc.stdout)["shape"])
    proc = jepa("embed", str(toy_run), "--data", str(toy_data), "--out", str(tmp_path / "p.npy"))
    pooled = np.load(tmp_path / "p.npy")
    np.testing.assert_allclose(pooled, tokens.mean(axis=1), rtol=1e-4, atol=1e-5)  # mean pooling


def test_embed__tokens_without_a_grid_is_a_clear_error(tmp_path_factory, tmp_path):
    events = write_toy_events(tmp_path / "e.npz")
    run = _run(tmp_path_factory, "toy_events", events)
    proc = jepa("embed", str(run), "--data", str(events), "--out", str(tmp_path / "t.npy"), "--tokens")
    assert proc.returncode == 2 and "--tokens needs tokens on a fixed grid" in proc.stderr
    assert not (tmp_path / "t.npy").exists()
