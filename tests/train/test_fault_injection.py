"""Fault injection: a run killed at random points, its newest checkpoint damaged, still ends
with the same weights as a run never interrupted (bit for bit).

Crashes are of three kinds, at random moments: an exception raised from inside the
checkpoint writer, ``os.replace``, ``fsync`` or between training steps (in this process,
cheap, so many of them); SIGTERM (the graceful stop); and a real ``SIGKILL`` of a
subprocess (no clean-up code runs at all). Between crashes the newest checkpoint is, at
random, truncated, overwritten with garbage, or its pointer broken or deleted.
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
from jepa_core.train import checkpoint
from jepa_core.train.checkpoint import complete_checkpoints, latest_checkpoint
from jepa_core.train.progress import ProgressLogger
from tests.toy_modality import ToyModality, write_toy_data

register_modality("toy", ToyModality)

DIST_CLI = Path(__file__).resolve().parent / "dist_cli.py"
STEPS = 40


class Crash(BaseException):
    """Stands for the process dying: nothing in the CLI catches it."""


def _arm(monkeypatch, rng: random.Random) -> None:
    """Make one of the hooks crash (or SIGTERM the run) after a random number of hook calls."""
    budget = [rng.randint(1, 25)]
    kind = rng.choice(["crash", "crash", "crash", "sigterm"])

    def tick() -> None:
        budget[0] -= 1
        if budget[0] == 0:
            if kind == "sigterm" and signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
                signal.raise_signal(signal.SIGTERM)  # only while the trainer catches it
            else:
                raise Crash

    def wrap(fn, before: bool):
        def hooked(*args, **kwargs):
            if before:
                tick()
            out = fn(*args, **kwargs)
            if not before:
                tick()
            return out
        return hooked

    monkeypatch.setattr(checkpoint, "save_file", wrap(checkpoint.save_file, rng.random() < 0.5))
    monkeypatch.setattr(checkpoint.os, "replace", wrap(os.replace, True))
    monkeypatch.setattr(checkpoint.os, "fsync", wrap(os.fsync, False))
    monkeypatch.setattr(ProgressLogger, "step", wrap(ProgressLogger.step, False))


def _damage_newest(ckpt: Path, rng: random.Random) -> None:
    """Damage the newest checkpoint (or the pointer) in a random way, if an older one is whole."""
    tags = complete_checkpoints(ckpt)
    if len(tags) < 2:
        return
    newest = ckpt / tags[0]
    how = rng.choice(["weights", "optimizer", "trainer", "pointer", "pointer outside", "no pointer"])
    if how == "weights":
        path = newest.with_name(newest.name + ".safetensors")
        path.write_bytes(path.read_bytes()[: rng.randint(0, path.stat().st_size - 1)])
    elif how == "optimizer":
        path = newest.with_name(newest.name + ".optim.safetensors")
        path.write_bytes(path.read_bytes()[: rng.randint(0, path.stat().st_size - 1)])
    elif how == "trainer":
        newest.with_name(newest.name + ".json").write_text('{"step": ')
    elif how == "pointer":
        (ckpt / "latest.json").write_bytes(os.urandom(12))
    elif how == "pointer outside":
        (ckpt / "latest.json").write_text(json.dumps({"step": 1, "tag": f"../../elsewhere/{tags[0]}"}))
    elif (ckpt / "latest.json").exists():
        (ckpt / "latest.json").unlink()


def _sigkill_once(args: list[str], ckpt: Path, rng: random.Random) -> None:
    """Start the run in a subprocess and SIGKILL it a random moment after a new checkpoint."""
    proc = subprocess.Popen([sys.executable, str(DIST_CLI), *args], env={**os.environ, "OMP_NUM_THREADS": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        start = latest_checkpoint(ckpt)
        deadline = time.monotonic() + 120
        while latest_checkpoint(ckpt) == start and proc.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def _weights(run: Path) -> dict[str, torch.Tensor]:
    ckpt = run / "checkpoints"
    return load_file(str(ckpt / f"{latest_checkpoint(ckpt)}.safetensors"))


@pytest.mark.parametrize("seed", [0, 1])
def test_crashes_and_damage__resume_to_the_uninterrupted_weights(seed, tmp_path, monkeypatch):
    rng = random.Random(seed)
    data = write_toy_data(tmp_path / "x.npy")
    common = ["pretrain", "toy", "--data", str(data), "--steps", str(STEPS), "--set", "logging.checkpoint_every=1"]
    assert cli.main([*common, "--out", str(tmp_path / "straight")]) == 0

    run = tmp_path / "run"
    ckpt = run / "checkpoints"
    args = [*common, "--out", str(run), "--resume"]
    outcomes = []
    for _ in range(12):
        with monkeypatch.context() as patch:
            _arm(patch, rng)
            try:
                outcomes.append(cli.main(args))
            except Crash:
                outcomes.append("crash")
        _damage_newest(ckpt, rng)
    for _ in range(2):
        _sigkill_once(args, ckpt, rng)
        _damage_newest(ckpt, rng)
    assert cli.main(args) == 0

    assert outcomes.count("crash") >= 3, outcomes
    assert latest_checkpoint(ckpt) == f"step-{STEPS:08d}"
    a, b = _weights(tmp_path / "straight"), _weights(run)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), "the crashed run's weights differ from the straight run"
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(1, STEPS + 1)), "metrics.jsonl: each step once, in order"
    assert not [p.name for p in ckpt.iterdir() if p.name.startswith(".")], "temp files left behind"
