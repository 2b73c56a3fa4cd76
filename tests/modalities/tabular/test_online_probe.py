"""The online probe and ``jepa plot`` on a real table: the probe column stays out of pretraining."""

import json

from modalities.tabular import TabularModality
from tests.helpers import run_cli


def test_online_probe__penguins_species_logged_hidden_from_pretraining_and_plotted(tmp_path):
    data = TabularModality().demo_data()
    run = tmp_path / "run"
    proc = run_cli("pretrain", "tabular", "--data", data, "--out", str(run), "--steps", "2",
                   "--probe-label", "species", "--set", "logging.probe_every=1",
                   "--set", "logging.progress=false")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    probed = [r for r in rows if "probe_accuracy" in r]
    assert [r["step"] for r in probed] == [0, 1, 2]
    assert all(0 <= r["probe_accuracy"] <= 1 for r in probed)
    state = json.loads((run / "modality_state.json").read_text())
    features = [c["name"] for c in state["numeric"] + state["categorical"]]
    assert "species" not in features and "island" in features
    plot = run_cli("plot", str(run))
    assert plot.returncode == 0, plot.stderr[-3000:]
    assert (run / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
