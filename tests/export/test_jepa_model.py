"""Any run exported as this package's JepaModel: AutoModel + JepaProcessor give what `jepa embed` gives."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import torch

from tests.helpers import tiny_table

from .runs import image_run, quiet

TINY_TABLE = ["--set", "model.dim=16", "--set", "model.depth=1", "--set", "model.heads=2",
              "--set", "model.predictor_dim=16", "--set", "model.predictor_depth=1",
              "--set", "model.predictor_heads=2", "--set", "logging.progress=false"]

#: In a fresh interpreter, as the issue's one-liner: `import jepa_core, transformers` then AutoModel.
LOAD = """
import sys, json, numpy as np, pandas as pd, torch
import jepa_core, transformers
from jepa_core.export.processor import JepaProcessor
folder, data, out = sys.argv[1:4]
model = transformers.AutoModel.from_pretrained(folder)
proc = JepaProcessor.from_pretrained(folder)
with torch.no_grad():
    result = model(**proc(pd.read_csv(data) if data.endswith('.csv') else data))
np.save(out, result.pooler_output.numpy())
print(json.dumps({'class': type(model).__name__, 'model_type': model.config.model_type,
                  'training': model.training}))
"""


def _load_and_embed(folder, data, out) -> dict:
    proc = subprocess.run([sys.executable, "-c", LOAD, str(folder), str(data), str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_export__tabular_run_loads_with_automodel_and_processor_gives_embed(tmp_path):
    tiny_table(24).to_csv(tmp_path / "t.csv", index=False)
    run = tmp_path / "run"
    assert quiet(["pretrain", "tabular", "--data", str(tmp_path / "t.csv"), "--out", str(run), "--steps", "2",
                  "--batch-size", "8", *TINY_TABLE])[0] == 0
    assert quiet(["embed", str(run), "--out", str(tmp_path / "e.npy")])[0] == 0
    code, out = quiet(["export", str(run), "--format", "hf", "--out", str(tmp_path / "hub")])
    assert code == 0 and json.loads(out) == {"out": str(tmp_path / "hub"), "format": "jepa",
                                             "modality": "tabular", "reason": None}
    hub = tmp_path / "hub"
    assert {"config.json", "model.safetensors", "modality_state.json", "processor_config.json",
            "README.md"} <= {p.name for p in hub.iterdir()}
    assert json.loads((hub / "modality_state.json").read_text()) == json.loads((run / "modality_state.json").read_text())

    card = (hub / "README.md").read_text()
    assert f"transformers.AutoModel.from_pretrained({str(hub)!r})" in card and "JepaProcessor" in card
    assert "## Run config" in card and "modality: tabular" in card and "height, weight" in card

    info = _load_and_embed(hub, tmp_path / "t.csv", tmp_path / "hf.npy")  # a DataFrame in
    assert info == {"class": "JepaModel", "model_type": "jepa", "training": False}
    ours, theirs = np.load(tmp_path / "e.npy"), np.load(tmp_path / "hf.npy")
    assert ours.shape == theirs.shape == (24, 5 * 16)
    assert float(np.abs(ours - theirs).max()) <= 1e-5


def test_export__image_run_with_registers_falls_back_to_jepa_model(tmp_path):
    run, data = image_run(tmp_path, "--set", "model.num_registers=1")
    assert quiet(["embed", str(run), "--out", str(tmp_path / "e.npy")])[0] == 0
    code, out = quiet(["export", str(run), "--format", "hf", "--out", str(tmp_path / "hub")])
    result = json.loads(out)
    assert code == 0 and result["format"] == "jepa" and "register" in result["reason"]
    assert "register" in (tmp_path / "hub" / "README.md").read_text()

    _load_and_embed(tmp_path / "hub", data, tmp_path / "hf.npy")  # a folder in
    ours, theirs = np.load(tmp_path / "e.npy"), np.load(tmp_path / "hf.npy")
    assert ours.shape == theirs.shape == (8, 16)
    assert float(np.abs(ours - theirs).max()) <= 1e-5


def test_jepa_processor__rejects_other_inputs_and_folders(tmp_path):
    import pytest

    from jepa_core.export.processor import JepaProcessor
    from jepa_core.modality import DataError

    with pytest.raises(DataError, match="processor_config.json"):
        JepaProcessor.from_pretrained(tmp_path)
    proc = JepaProcessor("tabular", {"modality": "tabular"}, {})
    with pytest.raises(DataError, match="a path .* or a DataFrame"):
        proc(torch.zeros(3))


def test_model_card__lists_the_newest_online_probe_and_saved_probe_results(tmp_path):
    from jepa_core.export.card import probe_results

    assert probe_results(tmp_path) == []
    (tmp_path / "metrics.jsonl").write_text(
        '{"step": 10, "loss": 1.0}\n{"step": 20, "probe_accuracy": 0.5, "probe_s": 0.1}\n'
        '{"step": 40, "probe_accuracy": 0.75, "probe_s": 0.1}\n{"step": 50, "loss": 0.5}\n')
    (tmp_path / "probe.json").write_text('{"metric": "accuracy", "pretrained": 0.9}')
    assert probe_results(tmp_path) == ["- online probe at step 40: accuracy 0.75",
                                       '- `probe.json`: `{"metric": "accuracy", "pretrained": 0.9}`']
