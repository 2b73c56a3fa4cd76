"""The online probe: logged at step 0 and every probe_every steps, and invisible to training."""

import json

import pytest
import torch
from safetensors.torch import load_file

from jepa_core import cli
from jepa_core.config import ConfigError, build_config
from jepa_core.registry import register_modality
from jepa_core.run import build_model
from jepa_core.train.checkpoint import latest_checkpoint
from jepa_core.train.online_probe import MAX_TOKEN_ROWS, OnlineProbe
from tests.helpers import run_torchrun
from tests.toy_modality import ToyModality, ToyTokenLabelModality, write_toy_data

register_modality("toy", ToyModality)

DROPOUT = ["--set", "model.dropout=0.1"]  # training draws from the global RNG every step


def _pretrain(tmp_path, out, *extra):
    data = tmp_path / "x.npy"
    if not data.exists():
        write_toy_data(data, rows=96)
    return cli.main(["pretrain", "toy", "--data", str(data), "--out", str(tmp_path / out), *extra])


def _weights(run):
    ckpt = run / "checkpoints"
    return load_file(str(ckpt / f"{latest_checkpoint(ckpt)}.safetensors"))


def _probe_rows(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if "probe_accuracy" in r]


def _assert_same_weights(a, b):
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "the online probe changed training"


def test_online_probe__random_init_at_step_0_then_every_probe_every_steps(tmp_path):
    assert _pretrain(tmp_path, "r", "--steps", "10", "--probe-label", "sign",
                     "--set", "logging.probe_every=4") == 0
    rows = _probe_rows(tmp_path / "r")
    assert [r["step"] for r in rows] == [0, 4, 8, 10]
    assert all(0.0 <= r["probe_accuracy"] <= 1.0 and r["probe_s"] >= 0 for r in rows)
    saved = (tmp_path / "r" / "config.yaml").read_text()
    assert "probe_label: sign" in saved  # --resume goes on probing


def test_online_probe__same_final_weights_as_a_run_without_it(tmp_path):
    assert _pretrain(tmp_path, "plain", "--steps", "12", *DROPOUT) == 0
    assert _pretrain(tmp_path, "probed", "--steps", "12", *DROPOUT, "--probe-label", "sign",
                     "--set", "logging.probe_every=3") == 0
    _assert_same_weights(_weights(tmp_path / "plain"), _weights(tmp_path / "probed"))


def test_online_probe__a_resumed_probed_run_matches_a_straight_plain_one(tmp_path):
    # with dropout: every step reseeds the global RNG, so the resumed run drops what the straight one dropped
    assert _pretrain(tmp_path, "plain", "--steps", "12", *DROPOUT) == 0
    assert _pretrain(tmp_path, "resumed", "--steps", "12", *DROPOUT, "--probe-label", "sign",
                     "--set", "logging.probe_every=2", "--set", "logging.probe=linear",
                     "--stop-after", "5") == 0
    assert _pretrain(tmp_path, "resumed", "--steps", "12", "--resume") == 0
    _assert_same_weights(_weights(tmp_path / "plain"), _weights(tmp_path / "resumed"))
    steps = [r["step"] for r in _probe_rows(tmp_path / "resumed")]
    assert steps == [0, 2, 4, 6, 8, 10, 12]  # step 0 once, not again at the resume


def test_online_probe__leaves_modes_and_rng_state_as_they_were(tmp_path):
    data = write_toy_data(tmp_path / "x.npy")
    plugin = ToyModality()
    cfg = build_config({"modality": "toy"}, plugin.default_config(),
                       {"data": {"path": str(data)}, "model": {"dropout": 0.1},
                        "logging": {"probe_label": "sign"}})
    dataset, state = plugin.load(str(data), cfg, None)
    model = build_model(cfg, plugin, state).train()
    modes = [m.training for m in model.modules()]
    assert not model.target_encoder.training  # the EMA teacher is kept in eval mode
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    probe = OnlineProbe.from_config(cfg, plugin, state, device="cpu")
    torch.manual_seed(7)
    rng = torch.get_rng_state()
    record = probe(model)
    assert set(record) == {"probe_accuracy", "probe_s"}
    assert torch.equal(torch.get_rng_state(), rng)
    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert [s for s in range(21) if probe.due(s, 20)] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert [s for s in range(8) if probe.due(s, 7)] == [0, 1, 2, 3, 4, 5, 6, 7]


def test_online_probe__token_level_knn_reports_miou_and_caps_token_rows(tmp_path, monkeypatch):
    from jepa_core.train import online_probe

    data = write_toy_data(tmp_path / "x.npy", rows=200)
    plugin = ToyTokenLabelModality()
    cfg = build_config({"modality": "toy"}, plugin.default_config(),
                       {"data": {"path": str(data)}, "logging": {"probe_label": "sign"}})
    dataset, state = plugin.load(str(data), cfg, None)
    monkeypatch.setattr(online_probe, "MAX_TOKEN_ROWS", 60)  # 6 tokens a sample: 10 samples
    probe = OnlineProbe.from_config(cfg, plugin, state, device="cpu")
    assert len(probe.dataset) == 10 and MAX_TOKEN_ROWS == 50_000
    record = probe(build_model(cfg, plugin, state))
    assert 0.0 <= record["probe_miou"] <= 1.0 and 0.0 <= record["probe_accuracy"] <= 1.0
    cfg.logging.probe = "attentive"
    with pytest.raises(ConfigError, match="sample-level"):
        OnlineProbe.from_config(cfg, plugin, state, device="cpu")


def test_online_probe__subsamples_to_probe_samples(tmp_path):
    data = write_toy_data(tmp_path / "x.npy", rows=200)
    plugin = ToyModality()
    cfg = build_config({"modality": "toy"}, plugin.default_config(),
                       {"data": {"path": str(data)}, "logging": {"probe_label": "s", "probe_samples": 40}})
    probe = OnlineProbe.from_config(cfg, plugin, plugin.load(str(data), cfg, None)[1], "cpu")
    assert len(probe.dataset) == 40 and len(probe.train) + len(probe.test) == 40


@pytest.mark.parametrize("overrides, message", [
    (["--set", "logging.probe=svm"], "logging.probe: unknown probe 'svm'"),
    (["--set", "dist.strategy=fsdp"], "dist.strategy=fsdp"),
    (["--set", "logging.probe_every=0"], "logging.probe_every must be at least 1"),
])
def test_online_probe__bad_settings_are_one_clear_error_before_training(overrides, message, tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "4", "--probe-label", "sign", *overrides) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()  # checked before the run directory is written


def test_online_probe__attentive_kind_runs(tmp_path):
    assert _pretrain(tmp_path, "r", "--steps", "2", "--probe-label", "sign",
                     "--set", "logging.probe=attentive") == 0
    assert [r["step"] for r in _probe_rows(tmp_path / "r")] == [0, 1, 2]


def test_online_probe__two_ranks_rank_0_probes_alone(tmp_path):
    from tests.train.test_distributed import CLI

    data = write_toy_data(tmp_path / "x.npy", rows=64)
    proc = run_torchrun(CLI, "pretrain", "toy", "--data", str(data), "--out", str(tmp_path / "r"),
                        "--steps", "4", "--probe-label", "sign", "--set", "logging.probe_every=2", nproc=2, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert [r["step"] for r in _probe_rows(tmp_path / "r")] == [0, 2, 4]
