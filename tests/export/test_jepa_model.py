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

#: In a fresh interpreter: AutoConfig loaded before `import jepa_core` (registered at once),
#: AutoModel after it (registered by the import hook), then each export loaded and run.
LOAD = """
import sys, json, numpy as np, pandas as pd, torch
from transformers import AutoConfig
import jepa_core, transformers
from jepa_core.export.processor import JepaProcessor
args, infos = sys.argv[1:], []
for folder, data, out in zip(args[0::3], args[1::3], args[2::3]):
    model = transformers.AutoModel.from_pretrained(folder)
    proc = JepaProcessor.from_pretrained(folder)
    with torch.no_grad():
        result = model(**proc(pd.read_csv(data) if data.endswith('.csv') else data))
    np.save(out, result.pooler_output.numpy())
    infos.append({'class': type(model).__name__, 'model_type': model.config.model_type,
                  'training': model.training})
print(json.dumps(infos))
"""


def _tabular_export(tmp_path):
    tiny_table(24).to_csv(tmp_path / "t.csv", index=False)
    run = tmp_path / "trun"
    assert quiet(["pretrain", "tabular", "--data", str(tmp_path / "t.csv"), "--out", str(run), "--steps", "2",
                  "--batch-size", "8", *TINY_TABLE])[0] == 0
    assert quiet(["embed", str(run), "--out", str(tmp_path / "te.npy")])[0] == 0
    hub = tmp_path / "thub"
    code, out = quiet(["export", str(run), "--format", "hf", "--out", str(hub)])
    assert code == 0 and json.loads(out) == {"out": str(hub), "format": "jepa", "modality": "tabular",
                                             "reason": None}
    assert {"config.json", "model.safetensors", "modality_state.json", "processor_config.json",
            "README.md"} <= {p.name for p in hub.iterdir()}
    state = json.loads((run / "modality_state.json").read_text())
    assert json.loads((hub / "modality_state.json").read_text()) == state
    card = (hub / "README.md").read_text()
    assert f"transformers.AutoModel.from_pretrained({str(hub)!r})" in card and "JepaProcessor" in card
    assert "## Run config" in card and "modality: tabular" in card and "height, weight" in card
    assert "jepa probe RUN --label ... > RUN/probe.json" in card  # no probe saved: how to save one
    return hub, tmp_path / "t.csv"  # a DataFrame in


def _image_with_registers_export(tmp_path):
    run, data = image_run(tmp_path, "--set", "model.num_registers=1")
    assert quiet(["embed", str(run), "--out", str(tmp_path / "ie.npy")])[0] == 0
    hub = tmp_path / "ihub"
    code, out = quiet(["export", str(run), "--format", "hf", "--out", str(hub)])
    result = json.loads(out)
    assert code == 0 and result["format"] == "jepa" and "register" in result["reason"]
    assert "register" in (hub / "README.md").read_text()
    return hub, data  # a folder in


def test_export__tabular_and_image_runs_load_with_automodel_and_processor_gives_embed(tmp_path):
    """A tabular run and an image run that does not map to I-JEPA (a register token)."""
    (thub, tdata), (ihub, idata) = _tabular_export(tmp_path), _image_with_registers_export(tmp_path)
    proc = subprocess.run([sys.executable, "-c", LOAD, str(thub), str(tdata), str(tmp_path / "thf.npy"),
                           str(ihub), str(idata), str(tmp_path / "ihf.npy")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    infos = json.loads(proc.stdout.strip().splitlines()[-1])
    assert infos == [{"class": "JepaModel", "model_type": "jepa", "training": False}] * 2
    for name, shape in (("t", (24, 5 * 16)), ("i", (8, 16))):
        ours, theirs = np.load(tmp_path / f"{name}e.npy"), np.load(tmp_path / f"{name}hf.npy")
        assert ours.shape == theirs.shape == shape
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
