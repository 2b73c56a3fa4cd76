"""The `jepa` command: JSON on stdout, one-line errors.

A few tests run it as a subprocess, as users do; the rest call ``cli.main`` in-process
(the same code, without paying a Python start-up per test).
"""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from jepa_core import cli
from tests.helpers import run_cli, tiny_table


def jepa(*args: str) -> SimpleNamespace:
    """``jepa ARGS`` in-process: returncode, stdout, stderr."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(args))
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "houses.csv"
    tiny_table(rows=200, seed=1).assign(price=lambda d: d.height * 2 + np.arange(len(d)) % 7).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run_dir(table, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "houses"
    proc = jepa("pretrain", "tabular", "--data", str(table), "--ignore-columns", "price", "--out", str(out),
                   "--steps", "6", "--batch-size", "64", "--set", "model.depth=1", "--set", "logging.progress=false")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["steps"] == 6
    return out


def test_info__lists_ops_plugins_and_paths():
    proc = run_cli("info")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert {"tabular", "lidar"} <= set(info["modalities"])
    assert info["compiled"]["extension"] is True
    assert "cpu" in info["compiled"]["ops"]["multiblock_masks"]
    assert info["attention"]["cpu"] in {"sdpa", "triton"} and info["masking"]["cpu"] == "compiled"


def test_modalities__one_line_each():
    proc = run_cli("modalities")
    assert proc.returncode == 0
    names = [line.split("\t")[0] for line in proc.stdout.splitlines()]
    assert {"tabular", "lidar"} <= set(names)


def test_probe__prints_one_json_object(run_dir, table):
    proc = jepa("probe", str(run_dir), "--data", str(table), "--label", "price", "--task", "regression")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["task"] == "regression" and result["metric"] == "r2"
    assert all(isinstance(result[k], float) for k in ("pretrained", "random_init", "raw"))


def test_embed__parquet_and_npy(run_dir, table, tmp_path):
    for name in ("emb.parquet", "emb.npy"):
        proc = jepa("embed", str(run_dir), "--data", str(table), "--out", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
    frame = pd.read_parquet(tmp_path / "emb.parquet")
    arr = np.load(tmp_path / "emb.npy")
    assert arr.shape == (200, 5 * 128) == frame.shape  # concat pooling: one 128-d token per column
    np.testing.assert_allclose(frame.to_numpy(), arr, rtol=1e-6)


def test_embed__defaults_to_the_pretraining_data(run_dir, tmp_path):
    proc = jepa("embed", str(run_dir), "--out", str(tmp_path / "e.npy"))
    assert proc.returncode == 0, proc.stderr
    assert np.load(tmp_path / "e.npy").shape[0] == 200


@pytest.mark.parametrize("args, message", [
    (["pretrain", "tabular", "--data", "missing.csv", "--out", "{tmp}/r"], "missing.csv"),
    (["pretrain", "nosuch", "--out", "{tmp}/r"], "unknown modality 'nosuch'"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--set", "optim.lrr=1"], "unknown key"),
    (["probe", "{tmp}", "--data", "x.csv", "--label", "y"], "is not a run directory"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--set", "model.dim=-3"], "model.dim must be at least 1, got -3"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--set", "model.predictor_heads=0"],
     "predictor.heads must be at least 1"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--set", "target.frozen_run=x"],
     "target.frozen_run is not a field of target 'ema' (it is one of: frozen); its fields are "
     "['kind', 'momentum']"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--set", "pooling.name=max"],
     "unknown pooling 'max' (pooling.name); registered: axis_mean, concat, mean, mean_std, registers, ui_segments"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--batch-size", "0"],
     "data.batch_size (--batch-size) must be at least 1, got 0"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--batch-size", "-4"],
     "data.batch_size (--batch-size) must be at least 1, got -4"),
    (["pretrain", "tabular", "--out", "{tmp}/r", "--stop-after", "-1"], "--stop-after must be at least 1"),
    (["pretrain", "tabular", "--out", "{tmp}/file.txt"], "is a file, not a directory"),
    (["pretrain", "tabular", "--out", "{tmp}"], "is a non-empty directory that is not a run"),
    (["embed", "{tmp}", "--out", "{tmp}/e.npy", "--batch-size", "0"], "--batch-size must be at least 1"),
    (["probe", "{tmp}", "--label", "y", "--batch-size", "-1"], "--batch-size must be at least 1"),
])
def test_errors__one_clear_line_no_traceback(args, message, tmp_path):
    (tmp_path / "file.txt").write_text("not a run\n")
    proc = jepa(*[a.format(tmp=tmp_path) for a in args])
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error:")


def test_probe__unknown_label_column(run_dir, table):
    proc = jepa("probe", str(run_dir), "--data", str(table), "--label", "nope")
    assert proc.returncode == 2 and "nope" in proc.stderr and "Traceback" not in proc.stderr


def test_pretrain__resume_as_another_modality(run_dir):
    proc = jepa("pretrain", "lidar", "--out", str(run_dir), "--resume")
    assert proc.returncode == 2 and "is a 'tabular' run" in proc.stderr


def test_errors__subprocess_exit_status_and_stderr(tmp_path):
    proc = run_cli("pretrain", "tabular", "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1].startswith("error:") and "missing.csv" in proc.stderr


def test_probe__c_is_a_positive_float_or_auto():
    parser = cli._parser()
    args = ["probe", "run", "--label", "y"]
    assert parser.parse_args(args).c == 1.0
    assert parser.parse_args([*args, "--c", "auto"]).c is None
    assert parser.parse_args([*args, "--c", "10"]).c == 10.0
    with pytest.raises(SystemExit):
        parser.parse_args([*args, "--c", "0"])


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "nan", "inf"])
def test_probe__c_not_a_positive_number_is_a_clear_usage_error(bad, capsys):
    with pytest.raises(SystemExit) as e:
        cli._parser().parse_args(["probe", "run", "--label", "y", "--c", bad])
    assert e.value.code == 2
    assert f"--c expects a positive number or 'auto', got '{bad}'" in capsys.readouterr().err


def test_info__triton_version_comes_from_ops():
    from jepa_core.ops import triton_version

    assert json.loads(jepa("info").stdout)["triton"] == triton_version()


def test_embed__damaged_latest_checkpoint_falls_back_with_a_warning(run_dir, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(run_dir, run)
    (run / "checkpoints" / "latest.json").write_text('{"tag": "../../elsewhere/step-00000006"}')
    proc = jepa("embed", str(run), "--out", str(tmp_path / "e.npy"))
    assert proc.returncode == 0, proc.stderr
    assert "warning:" in proc.stderr and "is not a checkpoint of this run" in proc.stderr
    weights = run / "checkpoints" / "step-00000006.safetensors"
    weights.write_bytes(weights.read_bytes()[:64])
    proc = jepa("probe", str(run), "--label", "price", "--task", "regression")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "step-00000006.safetensors is not a readable safetensors file" in proc.stderr
