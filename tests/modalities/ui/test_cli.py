"""The ui plugin from the command line on traces of a second simulator the plugin never saw:
pretrain, embed, probe (linear, kNN, few-shot), decode with a tiny LM, and bad inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jepa_core.cli import main as jepa

from .second_sim import INTENTS, write_second_sim
from .tiny_lm import write_tiny_lm

TINY = ["--set", "model.dim=16", "--set", "model.depth=1", "--set", "model.heads=2",
        "--set", "model.predictor_dim=16", "--set", "model.predictor_depth=1",
        "--set", "model.predictor_heads=2", "--set", "logging.progress=false"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    data = write_second_sim(root / "sessions", num=64)
    out = root / "run"
    assert jepa(["pretrain", "ui", "--data", str(data), "--out", str(out), "--steps", "6",
                 "--batch-size", "16", "--set", "mask.name=ui_future", *TINY]) == 0
    return data, out


def _json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def pretrain_and_probe(sessions, out, capsys, *sets: str, steps: int = 4) -> dict:
    """Pretrain a tiny ui run on ``sessions`` with ``--set`` overrides ``sets``, then probe
    ``intent``; returns the probe's JSON result."""
    overrides = [arg for s in sets for arg in ("--set", s)]
    assert jepa(["pretrain", "ui", "--data", str(sessions), "--out", str(out), "--steps", str(steps),
                 "--batch-size", "8", *overrides, *TINY]) == 0
    capsys.readouterr()
    assert jepa(["probe", str(out), "--data", str(sessions), "--label", "intent"]) == 0
    return _json(capsys)


def test_cli__embed_and_probe_on_unseen_traces(run, tmp_path, capsys):
    data, out = run
    capsys.readouterr()
    assert jepa(["embed", str(out), "--out", str(tmp_path / "e.npy")]) == 0
    assert np.load(tmp_path / "e.npy").shape == (64, 16)
    for flags in (["--probe", "linear"], ["--probe", "knn"], ["--shots", "2"]):
        capsys.readouterr()
        assert jepa(["probe", str(out), "--data", str(data), "--label", "intent", *flags]) == 0
        result = _json(capsys)
        assert {"pretrained", "random_init", "raw"} <= result.keys()
        assert 0.0 <= result["pretrained"] <= 1.0
    assert result["shots"] == 2 and result["n_train"] == 2 * len(INTENTS)


def test_cli__probe_label_missing_from_a_session(run, tmp_path, capsys):
    data, out = run
    lines = (data / "part1.jsonl").read_text().splitlines()
    session = json.loads(lines[2])
    del session["intent"]
    lines[2] = json.dumps(session)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert jepa(["probe", str(out), "--data", str(bad), "--label", "intent"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.jsonl: line 3" in err and "'intent'" in err
    assert len(err.strip().splitlines()) == 1


def test_cli__bad_trace_is_one_error_line(tmp_path, capsys):
    bad = tmp_path / "s.jsonl"
    bad.write_text('{"events": [{"t": 0, "action": "tap", "x": 0.1, "y": 0.2}]}\n{"events": [}\n')
    assert jepa(["pretrain", "ui", "--data", str(bad), "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "s.jsonl: line 2: malformed JSON" in err


def test_decode__trains_a_projector_into_a_tiny_lm(run, tmp_path, capsys):
    data, out = run
    lm = write_tiny_lm(tmp_path / "lm", list(INTENTS))
    capsys.readouterr()
    assert jepa(["decode", str(out), "--data", str(data), "--label", "intent", "--decoder", str(lm),
                 "--out", str(tmp_path / "dec"), "--epochs", "40", "--batch-size", "16"]) == 0
    result = _json(capsys)
    assert result["n_test"] == 16 and result["n_train"] == 48
    assert 0.0 <= result["exact_match"] <= result["token_f1"] <= 1.0
    assert result["final_loss"] < result["first_loss"] / 2
    assert result["token_f1"] > 0.3  # far above a random word list, on held-out sessions
    assert (tmp_path / "dec" / "projector.safetensors").is_file()
    assert json.loads((tmp_path / "dec" / "decoder.json").read_text())["label"] == "intent"


def test_decode__pooled_features(run, tmp_path, capsys):
    data, out = run
    lm = write_tiny_lm(tmp_path / "lm", list(INTENTS))
    capsys.readouterr()
    assert jepa(["decode", str(out), "--label", "app", "--decoder", str(lm), "--features", "pooled",
                 "--out", str(tmp_path / "dec"), "--epochs", "3"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out.strip().splitlines()[-1])["features"] == "pooled"
    progress = [ln for ln in err.splitlines() if ln.startswith("decode: epoch ")]
    assert [ln.split()[2] for ln in progress] == ["1/3", "2/3", "3/3"] and " loss " in progress[-1]


def test_decode__not_a_causal_lm(run, tmp_path, capsys):
    from transformers import ViTConfig

    data, out = run
    ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2).save_pretrained(str(tmp_path / "vit"))
    capsys.readouterr()
    assert jepa(["decode", str(out), "--label", "intent", "--decoder", str(tmp_path / "vit"),
                 "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a causal language model" in err and "vit" in err
    assert jepa(["decode", str(out), "--label", "intent", "--decoder", str(tmp_path / "none"),
                 "--out", str(tmp_path / "d")]) == 2
    assert "no config.json" in capsys.readouterr().err
