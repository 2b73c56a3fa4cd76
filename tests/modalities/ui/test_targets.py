"""The ``ui_layers`` target: the mean of the EMA teacher's last layer-normed block outputs."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from jepa_core.cli import main as jepa
from jepa_core.config import ConfigError
from jepa_core.modality import move_to
from jepa_core.run import load_run
from jepa_core.targets import create_target
from modalities.ui.targets import LayerAverageTarget, block_outputs

from .second_sim import write_second_sim

TINY = ["--set", "model.dim=16", "--set", "model.depth=2", "--set", "model.heads=2",
        "--set", "model.predictor_dim=16", "--set", "model.predictor_depth=1",
        "--set", "model.predictor_heads=2", "--set", "logging.progress=false"]


def _run(tmp_path, *flags):
    data = write_second_sim(tmp_path / "sessions", num=32)
    out = tmp_path / "run"
    code = jepa(["pretrain", "ui", "--data", str(data), "--out", str(out), "--steps", "3",
                 "--batch-size", "16", "--set", "target.kind=ui_layers", *flags, *TINY])
    return code, out


def test_targets__ui_layers_averages_the_normed_last_blocks(tmp_path):
    code, out = _run(tmp_path, "--set", "target.layers=2")
    assert code == 0
    run = load_run(out)
    assert isinstance(run.model.target, LayerAverageTarget) and run.model.target.layers == 2
    encoder = run.model.target.encoder
    dataset = run.plugin.load(run.cfg.data.path, run.cfg, run.state)[0]
    batch = move_to(run.plugin.collate([dataset[i] for i in range(4)]), torch.device("cpu"))
    tokens = encoder.tokenize(batch)
    with torch.no_grad():
        outs = block_outputs(encoder, tokens)
        # the last block's stream through the final norm is the encoder's own output
        assert torch.allclose(encoder.transformer.norm(outs[-1])[tokens.valid], encoder(tokens)[tokens.valid],
                              atol=1e-5)
        got = run.model.target(batch, run.model.encoder, tokens)
    want = (F.layer_norm(outs[0], (16,)) + F.layer_norm(outs[1], (16,))) / 2
    assert torch.allclose(got, want, atol=1e-6)


def test_targets__ui_layers_deeper_than_the_encoder_is_an_error(tmp_path, capsys):
    code, _ = _run(tmp_path, "--set", "target.layers=3")
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "target.layers=3" in err and "model.depth=2" in err


def test_targets__ui_layers_below_one_is_a_config_error(tmp_path):
    with pytest.raises((ConfigError, ValueError), match="target.layers must be >= 1"):
        create_target({"kind": "ui_layers", "layers": 0}, None)
