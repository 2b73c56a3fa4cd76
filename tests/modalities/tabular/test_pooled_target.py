"""The core ``pooled_target`` method on tables: a row-level target from the command line."""

from __future__ import annotations

import json

from tests.helpers import tiny_table


def test_pooled_target__pretrain_and_probe_a_table_from_the_cli(tmp_path, capsys):
    from jepa_core.cli import main

    table = tmp_path / "t.csv"
    tiny_table(rows=40).to_csv(table, index=False)
    run = tmp_path / "run"
    code = main(["pretrain", "tabular", "--data", str(table), "--out", str(run), "--steps", "3",
                 "--batch-size", "16", "--ignore-columns", "level", "--set", "logging.progress=false",
                 "--set", "model.dim=16", "--set", "model.depth=1", "--set", "model.heads=2",
                 "--set", "method.name=pooled_target", "--set", "method.weight=5"])
    assert code == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    pooled = [r["pooled"] for r in rows if "pooled" in r]
    assert pooled and all(p > 0 for p in pooled)
    capsys.readouterr()
    assert main(["probe", str(run), "--data", str(table), "--label", "level", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= result["pretrained"] <= 1.0 and 0.0 <= result["random_init"] <= 1.0
