"""Runs saved before target, predictor and pooling had their own config sections still
embed, probe and resume: their config.yaml is re-read through the upgrade path."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from jepa_core import cli
from jepa_core.registry import create_modality

OLD_RUN = Path(__file__).parent / "data" / "old_runs" / "tabular_ckpt"
#: The first 8 embeddings of OLD_RUN, by `jepa embed` of the commit that wrote it.
OLD_EMBEDDINGS = Path(__file__).parent / "data" / "old_runs" / "tabular_ckpt_embed_first8.npy"


@pytest.fixture
def old_run(tmp_path):
    run = tmp_path / "old"
    shutil.copytree(OLD_RUN, run)
    config = run / "config.yaml"
    config.write_text(config.read_text().replace("PENGUINS", create_modality("tabular").demo_data()))
    return run


def test_old_run__embeds_probes_and_resumes(old_run, tmp_path, capsys):
    assert cli.main(["embed", str(old_run), "--out", str(tmp_path / "e.npy")]) == 0
    features = np.load(tmp_path / "e.npy")
    assert features.shape == (344, 8 * 16)  # concat pooling: one 16-wide block per column
    np.testing.assert_allclose(features[:8], np.load(OLD_EMBEDDINGS), rtol=1e-5, atol=1e-5)
    assert cli.main(["probe", str(old_run), "--label", "species", "--probe", "knn"]) == 0
    assert "pretrained" in json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert cli.main(["pretrain", "tabular", "--out", str(old_run), "--resume", "--steps", "3"]) == 0
    steps = [json.loads(line)["step"] for line in (old_run / "metrics.jsonl").read_text().splitlines()]
    assert steps[-1] == 3
    saved = yaml.safe_load((old_run / "config.yaml").read_text())  # rewritten in the new format
    assert saved["predictor"] == {"name": "masked", "dim": 8, "depth": 1, "heads": 2}
    assert saved["pooling"] == {"name": "concat"} and "pooling" not in saved["model"]
    assert saved["target"] == {"kind": "ema", "momentum": [0.98, 1.0]}
