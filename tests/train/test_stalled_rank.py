"""A stalled rank under torchrun (CPU, gloo, two ranks): the job fails in bounded time
with a message naming the rank, through the heartbeat or after a collective timed out."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from jepa_core.train.distributed import DistEnv, Heartbeat, is_collective_timeout
from tests.helpers import run_torchrun
from tests.toy_modality import write_toy_data

CLI = Path(__file__).resolve().parent / "dist_cli.py"
TIMEOUT_S = 4
SLEEP_S = 120


@pytest.mark.parametrize("heartbeat_every", [1, 0], ids=["heartbeat", "after-collective-timeout"])
def test_stalled_rank__error_names_the_rank_and_the_job_exits(heartbeat_every, tmp_path):
    data = write_toy_data(tmp_path / "x.npy", rows=32)
    tic = time.monotonic()
    proc = run_torchrun(CLI, "pretrain", "toy", "--data", str(data), "--out", str(tmp_path / "run"),
                        "--steps", "4", "--set", f"dist.timeout_s={TIMEOUT_S}",
                        "--set", f"dist.heartbeat_every={heartbeat_every}",
                        env={"JEPA_TEST_STALL": f"1:2:{SLEEP_S}"}, timeout=SLEEP_S - 10)
    elapsed = time.monotonic() - tic
    assert proc.returncode != 0
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert any(f"rank 1 of 2 did not answer the heartbeat at step 2 within dist.timeout_s={TIMEOUT_S} s"
               in ln for ln in errors), proc.stderr[-4000:]
    assert re.search(r"rank\s*: 0 .*\n\s*exitcode\s*: 2 ", proc.stderr), "rank 0 exits 2, not a traceback"
    assert elapsed < SLEEP_S - 10  # the launcher stopped the sleeping rank


def test_heartbeat__one_process_is_a_no_op():
    beat = Heartbeat(DistEnv(), timeout_s=1, every=1)
    assert beat.group is None and beat.check(0) is None and beat.check(3, force=True) is None


def test_is_collective_timeout__gloo_message():
    assert is_collective_timeout(RuntimeError("[unbound_buffer.cc:78] Timed out waiting 2000ms for recv"))
    assert not is_collective_timeout(RuntimeError("CUDA out of memory"))
