"""Tests for Trainer.train_step: it is the step fit runs, and its NaN check reads the loss late."""

from __future__ import annotations

import numpy as np
import torch

from jepa_core import cli
from jepa_core.config import build_config
from jepa_core.registry import register_modality
from jepa_core.run import RunDir, build_model
from jepa_core.train import DistEnv, EpochBatches, StepStats, Trainer
from jepa_core.train.checkpoint import latest_checkpoint
from tests.toy_modality import ToyModality, write_toy_data

register_modality("toy", ToyModality)


def _trainer(tmp_path, name: str, steps: int) -> Trainer:
    plugin = ToyModality()
    cfg = build_config({"modality": "toy"}, plugin.default_config(), {"optim": {"steps": steps}})
    dataset, state = plugin.load(str(write_toy_data(tmp_path / "x.npy")), cfg, None)
    run = RunDir(tmp_path / name)
    run.write(cfg, state)
    env = DistEnv()
    batches = EpochBatches(dataset, plugin.collate, cfg.data.batch_size, env, cfg.optim.seed)
    torch.manual_seed(0)
    return Trainer(build_model(cfg, plugin, state), cfg, batches, run, env, torch.device("cpu"))


def test_train_step__is_the_step_fit_runs(tmp_path):
    fitted = _trainer(tmp_path, "fit", 5)
    fitted.fit()
    stepped = _trainer(tmp_path, "steps", 5)
    stepped.model.train()
    losses = []
    for step, ids, batch in stepped.batches.iterate(0, 5):
        stats = stepped.train_step(step, ids, batch)
        assert isinstance(stats, StepStats) and stats.step == step and stats.loss.dim() == 0
        assert all(v.dim() == 0 for v in stats.output.parts.values())
        losses.append(stats.loss.item())
    a, b = fitted.model.state_dict(), stepped.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(np.isfinite(losses))


def test_nan_loss__read_a_step_late_still_names_its_step_and_keeps_the_checkpoint(tmp_path, capsys):
    data = write_toy_data(tmp_path / "x.npy")
    rare = ["--set", "logging.log_every=50", "--set", "logging.checkpoint_every=50"]
    run = tmp_path / "r"
    assert cli.main(["pretrain", "toy", "--data", str(data), "--out", str(run), "--steps", "4", *rare]) == 0
    before = (run / "checkpoints" / "step-00000004.safetensors").read_bytes()
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full_like(np.load(data), np.nan))
    code = cli.main(["pretrain", "toy", "--data", str(bad), "--out", str(run), "--steps", "9",
                     "--resume", *rare])
    assert code == 2
    err = capsys.readouterr().err
    assert "loss became nan at step 4" in err and "last good checkpoint (step 4)" in err
    assert latest_checkpoint(run / "checkpoints") == "step-00000004"
    assert (run / "checkpoints" / "step-00000004.safetensors").read_bytes() == before


def test_train_step__cpu_amp_runs_under_bf16_autocast(tmp_path):
    trainer = _trainer(tmp_path, "amp", 2)
    trainer.cfg.optim.cpu_amp = True
    seen = []
    hook = trainer.model.encoder.transformer.blocks[0].attn.qkv.register_forward_hook(
        lambda m, i, o: seen.append((torch.is_autocast_enabled("cpu"), o.dtype)))
    trainer.model.train()
    for step, ids, batch in trainer.batches.iterate(0, 2):
        assert torch.isfinite(trainer.train_step(step, ids, batch).loss)
    hook.remove()
    assert seen and all(on and dtype == torch.bfloat16 for on, dtype in seen)
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
