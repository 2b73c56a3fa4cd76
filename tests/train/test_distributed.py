"""Data-parallel training under torchrun (CPU, gloo, two ranks): DDP and FSDP2.

Each test launches ``tests/train/dist_step.py`` or ``tests/train/dist_cli.py`` with
``torchrun --nproc-per-node=2`` and compares with one process on the same global batch.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from jepa_core import cli
from jepa_core.registry import register_modality
from jepa_core.train.checkpoint import latest_checkpoint, load_checkpoint
from tests.helpers import run_torchrun, tiny_table
from tests.toy_modality import ToyModality, write_toy_data

register_modality("toy", ToyModality)

HERE = Path(__file__).resolve().parent
STEP = HERE / "dist_step.py"
CLI = HERE / "dist_cli.py"
REGULARIZED = ["--set", "objective.sigreg=0.1", "--set", "objective.sigreg_slices=32",
               "--set", "objective.vicreg_variance=0.5", "--set", "objective.vicreg_covariance=0.5"]
TIMEOUT = 240


def _check(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-6000:]}"
    return proc


def _python(script: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, str(script), *args], env=full_env, capture_output=True,
                          text=True, timeout=TIMEOUT)


def _launch(script: Path, *args: str, nproc: int, env: dict | None = None) -> subprocess.CompletedProcess:
    if nproc == 1:
        return _check(_python(script, *args, env=env))
    return _check(run_torchrun(script, *args, nproc=nproc, env=env, timeout=TIMEOUT))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_toy_data(tmp_path_factory.mktemp("data") / "x.npy", rows=64)


TEACHER_FREE = ["--set", "target.kind=none", "--set", "objective.sigreg=0.1",
                "--set", "objective.sigreg_slices=32"]
STANDARDIZED = [*REGULARIZED, "--set", "objective.standardize_targets=true",
                "--set", "objective.normalize_targets=false"]
CASES = {"ddp-ema-sigreg-vicreg": ("ddp", REGULARIZED), "fsdp-ema-sigreg-vicreg": ("fsdp", REGULARIZED),
         "fsdp-teacher-free-sigreg": ("fsdp", TEACHER_FREE),
         "ddp-standardized-targets": ("ddp", STANDARDIZED)}


def _overrides(flags: list[str]) -> list[str]:
    """``["--set", "a=1", "--set", "b=2"]`` -> ``["a=1", "b=2"]``."""
    assert flags[::2] == ["--set"] * (len(flags) // 2)
    return flags[1::2]


@pytest.fixture(scope="module")
def steps(data, tmp_path_factory) -> dict[int, Path]:
    """One step of every case, by 1 process x global batch 8 and by 2 ranks x 4: one launch
    each for all cases (each case is a fresh model in the same process group)."""
    root = tmp_path_factory.mktemp("steps")
    cases = root / "cases.json"
    cases.write_text(json.dumps({name: [*_overrides(extra), f"dist.strategy={strategy}"]
                                 for name, (strategy, extra) in CASES.items()}))
    for nproc in (1, 2):
        _launch(STEP, str(data), str(root / f"w{nproc}"), str(cases), nproc=nproc)
    return {nproc: root / f"w{nproc}" for nproc in (1, 2)}


def _assert_close_states(a: dict, b: dict, rtol: float, atol: float) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=rtol, atol=atol, msg=lambda m, k=k: f"{k}: {m}")


def _assert_ema_update(s: dict) -> None:
    """teacher_after == lerp(teacher_before, student_after, 1 - momentum), elementwise."""
    for k in [k for k in s["after"] if k.startswith("target.encoder.")]:
        student = s["after"]["encoder." + k[len("target.encoder."):]]
        expected = torch.lerp(s["before"][k], student, 1.0 - s["momentum"])
        torch.testing.assert_close(s["after"][k], expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", list(CASES))
def test_two_ranks__loss_and_gradients_match_one_process_on_twice_the_batch(case, steps):
    _, extra = CASES[case]
    one = torch.load(steps[1] / case / "step_w1.pt")
    two = torch.load(steps[2] / case / "step_w2.pt")
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-5)
    assert set(two["parts"]) == set(one["parts"]) and "sigreg" in two["parts"]
    for name, value in one["parts"].items():
        assert two["parts"][name] == pytest.approx(value, rel=1e-5, abs=1e-7), name
    # same scale as one process: the objectives' all-reduce backward and DDP/FSDP averaging cancel
    _assert_close_states(one["grads"], two["grads"], rtol=1e-4, atol=1e-7)
    _assert_close_states(one["after"], two["after"], rtol=1e-4, atol=1e-6)
    # the EMA teacher (sharded like the student under FSDP2) follows the student exactly
    assert any(k.startswith("target.encoder.") for k in two["after"]) == ("target.kind=none" not in extra)
    _assert_ema_update(two)


def _pretrain(nproc: int, data: Path, run: Path, *extra: str, env: dict | None = None):
    """``jepa pretrain toy``: in this process for one rank, else under torchrun."""
    args = ["pretrain", "toy", "--data", str(data), "--out", str(run), *extra]
    if nproc == 1 and env is None:
        assert cli.main(args) == 0
        return None
    return _launch(CLI, *args, nproc=nproc, env=env)


def _weights(run: Path) -> dict:
    ckpt = run / "checkpoints"
    return load_file(str(ckpt / f"{latest_checkpoint(ckpt)}.safetensors"))


def test_ddp__ranks_identical_and_resume_at_other_world_sizes(data, tmp_path):
    steps = ["--steps", "6"]
    _pretrain(1, data, tmp_path / "straight", *steps)
    reference = _weights(tmp_path / "straight")

    # 2 ranks (DDP) for 3 steps, then 1 process to the end
    ranks = tmp_path / "ranks"
    proc = _pretrain(2, data, tmp_path / "a", *steps, "--stop-after", "3", env={"JEPA_TEST_RANK_STATE": str(ranks)})
    assert len([ln for ln in proc.stdout.splitlines() if ln.startswith("{")]) == 1, "rank 0 alone prints"
    r0, r1 = torch.load(ranks / "rank0.pt"), torch.load(ranks / "rank1.pt")
    assert r0.keys() == r1.keys() and all(torch.equal(r0[k], r1[k]) for k in r0), "ranks differ"
    assert json.loads((tmp_path / "a" / "checkpoints" / "step-00000003.json").read_text())["world_size"] == 2
    _pretrain(1, data, tmp_path / "a", *steps, "--resume")

    # 1 process for 3 steps, then 2 ranks sharded with FSDP2 to the end
    _pretrain(1, data, tmp_path / "b", *steps, "--stop-after", "3")
    _pretrain(2, data, tmp_path / "b", *steps, "--resume", "--set", "dist.strategy=fsdp")

    for run in ("a", "b"):
        assert latest_checkpoint(tmp_path / run / "checkpoints") == "step-00000006"
        _assert_close_states(reference, _weights(tmp_path / run), rtol=1e-3, atol=1e-4)
        metrics = [json.loads(ln) for ln in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5, 6], "metrics from rank 0 only, once"


def test_torchrun__module_cli_on_tabular(tmp_path):
    csv = tmp_path / "t.csv"
    tiny_table(rows=48).to_csv(csv, index=False)
    proc = _check(run_torchrun("-m", "jepa_core.cli", "pretrain", "tabular", "--data", str(csv),
                               "--out", str(tmp_path / "run"), "--steps", "2", "--batch-size", "16",
                               "--set", "model.depth=1", "--set", "model.predictor_depth=1",
                               "--set", "dist.strategy=fsdp", nproc=2, timeout=TIMEOUT))
    result = json.loads(proc.stdout.strip())
    assert result["steps"] == 2
    assert "x2" in proc.stderr
    model, _, trainer = load_checkpoint(tmp_path / "run" / "checkpoints")
    assert trainer["world_size"] == 2 and trainer["step"] == 2 and model


def test_kill_9__leaves_a_loadable_checkpoint_and_resume_continues(data, tmp_path):
    run = tmp_path / "run"
    rng = random.Random()
    args = ["pretrain", "toy", "--data", str(data), "--out", str(run), "--steps", "100000",
            "--set", "logging.checkpoint_every=1"]
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, str(CLI), *args, *(["--resume"] if attempt else [])],
                                env={**os.environ, "OMP_NUM_THREADS": "1"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            start = latest_checkpoint(run / "checkpoints") if attempt else None
            deadline = time.monotonic() + 120
            while latest_checkpoint(run / "checkpoints") == start:
                assert proc.poll() is None, "the run ended early"
                assert time.monotonic() < deadline, "no checkpoint appeared"
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 1.0))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        model, optimizer, trainer = load_checkpoint(run / "checkpoints")
        assert trainer["step"] >= 1 and model and optimizer["state"]
    killed_at = trainer["step"]
    _pretrain(1, data, run, "--steps", "100000", "--resume", "--stop-after", "2")
    assert latest_checkpoint(run / "checkpoints") == f"step-{killed_at + 2:08d}"
