"""What a new user meets first: help, paths, probe output, bench output, run messages."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from jepa_core import cli
from tests.helpers import ROOT, tiny_table

FAST = ["--batch-size", "64", "--set", "model.depth=1", "--set", "logging.progress=false"]


def jepa(*args: str) -> SimpleNamespace:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def help_text(*args: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main([*args, "--help"])
    return out.getvalue()


@pytest.fixture()
def table(tmp_path):
    df = tiny_table(rows=200, seed=1)
    df["price"] = df.height * 2 + np.arange(len(df)) % 7
    path = tmp_path / "data" / "houses.csv"
    path.parent.mkdir()
    df.to_csv(path, index=False)
    return path


def test_import_cli_and_help__load_neither_torch_nor_numpy():
    code = ("import contextlib, io, sys, jepa_core.cli\n"
            "for args in (['--help'], ['pretrain', '--help'], ['probe']):  # help, usage error\n"
            "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            "        try: jepa_core.cli.main(args)\n"
            "        except SystemExit: pass\n"
            "heavy = sorted(m for m in ('torch', 'numpy', 'pandas') if m in sys.modules)\n"
            "print(','.join(heavy))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_help__every_command_has_a_description():
    top = help_text()
    for command in cli.COMMANDS:
        assert command in top
        assert len(help_text(command).strip().splitlines()) > 2, command
    assert "One line per modality plugin" in help_text("modalities")
    assert "compiled ops" in help_text("info")


def test_help__shows_the_defaults():
    pretrain, probe, bench = (" ".join(help_text(c).split()) for c in ("pretrain", "probe", "bench"))
    assert "tabular, lidar" in pretrain  # the positional modality is explained
    assert "auto: cuda when available" in pretrain
    assert "(default: 256)" in probe and "(default: auto)" in probe and "(default: 0)" in probe
    assert "default: classification" in probe
    assert "which benchmark" in bench


def test_help__config_defaults_it_names_are_the_plugins_defaults():
    from modalities.audio import AudioModality
    from modalities.image import ImageModality
    from modalities.lidar import LidarModality
    from modalities.tabular import TabularModality
    from modalities.ui import UIModality
    from modalities.video import VideoModality
    from modalities.world import WorldModality

    for plugin in (TabularModality(), LidarModality(), ImageModality(), VideoModality(),
                   AudioModality(), UIModality(), WorldModality()):
        cfg = plugin.default_config()
        assert f"{plugin.name} {cfg['optim']['epochs']}" in cli.EPOCHS_HELP
        assert f"{plugin.name} {cfg['data']['batch_size']}" in cli.BATCH_HELP


def test_bench__out_is_required(capsys):
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["bench", "masking"])
    assert "--out" in capsys.readouterr().err


def test_bench__quality_steps_below_one_fails_before_any_work(tmp_path):
    proc = jepa("bench", "quality", "tabular", "--steps", "0", "--out", str(tmp_path / "b"))
    assert proc.returncode == 2 and proc.stderr.strip() == "error: --steps must be at least 1, got 0"
    assert not (tmp_path / "b").exists()


def test_bench__writes_where_asked_and_prints_a_summary(tmp_path):
    proc = jepa("bench", "masking", "--quick", "--device", "cpu", "--out", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "b" / "masking.json").read_text())["quick"] is True
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("masking on cpu") and "vs ref" in lines[1]
    assert len(lines) >= 3 and lines[2].split()[0] == "14x14"


def test_pretrain__stores_absolute_paths_and_probe_works_from_elsewhere(table, tmp_path, monkeypatch):
    monkeypatch.chdir(table.parent)
    proc = jepa("pretrain", "tabular", "--data", "houses.csv", "--ignore-columns", "price",
                "--out", "run", "--steps", "2", *FAST)
    assert proc.returncode == 0, proc.stderr
    assert "schema: 2 numeric [height, weight]; 3 categorical" in proc.stderr and "ignored [price]" in proc.stderr  # the schema summary
    saved = (table.parent / "run" / "config.yaml").read_text()
    assert f"path: {table.resolve()}" in saved
    monkeypatch.chdir(tmp_path)
    proc = jepa("probe", str(table.parent / "run"), "--label", "price")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert all(v is None or v == round(v, 4) for v in (result["pretrained"], result["raw"]))
    assert "random_init: the same architecture untrained" in proc.stderr

    table.rename(table.with_name("moved.csv"))
    proc = jepa("probe", str(table.parent / "run"), "--label", "price")
    assert proc.returncode == 2
    assert f"the run was pretrained on {table.resolve()}, which does not exist" in proc.stderr
    assert "pass --data" in proc.stderr


def test_probe__without_label_on_non_demo_data_says_label_is_required(table, tmp_path):
    run = tmp_path / "run"
    assert jepa("pretrain", "tabular", "--data", str(table), "--out", str(run), "--steps", "1",
                *FAST).returncode == 0
    proc = jepa("probe", str(run))
    assert proc.returncode == 2 and "--label is required" in proc.stderr


def test_embed__wrong_extension_fails_before_any_work(tmp_path):
    proc = jepa("embed", str(tmp_path / "no-such-run"), "--out", str(tmp_path / "emb.csv"))
    assert proc.returncode == 2
    assert "--out must end in .npy or .parquet, got 'emb.csv'" in proc.stderr


def test_embed__parquet_columns_name_the_features(table, tmp_path):
    run = tmp_path / "run"
    assert jepa("pretrain", "tabular", "--data", str(table), "--ignore-columns", "price",
                "--out", str(run), "--steps", "1", *FAST, "--set", "model.dim=8").returncode == 0
    proc = jepa("embed", str(run), "--out", str(tmp_path / "e.parquet"))
    assert proc.returncode == 0, proc.stderr
    state = json.loads((run / "modality_state.json").read_text())
    order = [c["name"] for c in state["numeric"]] + [c["name"] for c in state["categorical"]]
    assert json.loads(proc.stdout)["blocks"] == order
    columns = list(pd.read_parquet(tmp_path / "e.parquet").columns)
    assert columns[:9] == [f"{order[0]}:{k}" for k in range(8)] + [f"{order[1]}:0"]
    jepa("embed", str(run), "--out", str(tmp_path / "e.npy"))
    assert json.loads((tmp_path / "e.columns.json").read_text()) == columns


def test_pretrain__resume_says_where_it_goes_on(table, tmp_path):
    run = tmp_path / "run"
    args = ["pretrain", "tabular", "--data", str(table), "--out", str(run), "--steps", "4", *FAST]
    assert jepa(*args, "--stop-after", "2").returncode == 0
    proc = jepa(*args, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert "resuming from step 2 of 4" in proc.stderr
    assert "schedules now span" not in proc.stderr  # the run's length has not changed


def test_pretrain__a_table_smaller_than_a_batch_names_the_file_and_a_batch_that_fits(table, tmp_path):
    args = ["pretrain", "tabular", "--data", str(table), "--out", str(tmp_path / "run"), "--steps", "1",
            "--set", "model.depth=1", "--set", "logging.progress=false"]
    proc = jepa(*args, "--batch-size", "1000")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: {table}: the dataset has 200 samples, fewer than one batch "
                                   f"of 1000; lower data.batch_size (--batch-size), e.g. --batch-size 64")
    assert jepa(*args, "--batch-size", "64").returncode == 0


def test_pretrain__resume_to_a_longer_run_says_the_schedules_stretch(table, tmp_path):
    run = tmp_path / "run"
    args = ["pretrain", "tabular", "--data", str(table), "--out", str(run), *FAST]
    assert jepa(*args, "--steps", "2").returncode == 0
    proc = jepa(*args, "--steps", "3", "--resume")
    assert proc.returncode == 0, proc.stderr
    assert ("resuming from step 2 of 3; it was run for 2 steps before, so its lr, weight-decay "
            "and EMA schedules now span 3 steps") in proc.stderr


def test_pretrain__without_a_terminal_prints_plain_progress_lines(table, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "jepa_core.cli", "pretrain", "tabular", "--data",
                           str(table), "--out", str(tmp_path / "run"), "--steps", "4",
                           "--batch-size", "64", "--set", "model.depth=1"],
                          capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "%|" not in proc.stderr
    assert "step 4/4  loss" in proc.stderr


def test_pretrain__tensorboard_events_hold_the_logged_scalars(table, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    proc = jepa("pretrain", "tabular", "--data", str(table), "--out", str(run), "--steps", "4", *FAST,
                "--set", "logging.log_every=2", "--set", "logging.tensorboard=true")
    assert proc.returncode == 0, proc.stderr
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    loss = events.Scalars("loss")
    assert [e.step for e in loss] == [r["step"] for r in logged] == [2, 4]
    np.testing.assert_allclose([e.value for e in loss], [r["loss"] for r in logged], rtol=1e-6)
    assert "lr" in events.Tags()["scalars"]


def test_pretrain__bad_wandb_mode_is_a_config_error(table, tmp_path):
    proc = jepa("pretrain", "tabular", "--data", str(table), "--out", str(tmp_path / "run"),
                "--steps", "1", *FAST, "--set", "logging.wandb=loud")
    assert proc.returncode == 2 and "logging.wandb must be one of" in proc.stderr


def test_pretrain__wandb_offline_writes_a_local_run(table, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_SILENT", "true")
    run = tmp_path / "run"
    proc = jepa("pretrain", "tabular", "--data", str(table), "--out", str(run), "--steps", "2", *FAST,
                "--set", "logging.log_every=1", "--set", "logging.wandb=offline")
    assert proc.returncode == 0, proc.stderr
    assert list((run / "wandb").glob("offline-run-*/run-*.wandb"))


def test_lidar_plugin__imports_no_graph_library():
    code = "import sys, modalities.lidar.plugin; print('torch_geometric' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "False", proc.stderr


def test_resume__set_options_the_run_was_fitted_with_are_named_as_ignored():
    state = {"options": {"bin_columns": 4, "point_range": [0.0, 1.0], "patch": 4}}
    with pytest.warns(UserWarning, match=r"R/modality_state\.json: the run keeps the options it was "
                                         r"fitted with, so --set options\.bin_columns=5 \(fitted: 4\) "
                                         r"is ignored on --resume") as caught:
        cli._warn_fitted_options({"options": {"bin_columns": 5, "patch": 4, "point_range": (0.0, 1.0)}},
                                 state, "R/modality_state.json")
    assert len(caught) == 1 and "patch" not in str(caught[0].message)  # unchanged ones are not named
