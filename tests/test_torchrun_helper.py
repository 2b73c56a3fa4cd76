"""The torchrun launcher the distributed tests use: a job that hangs is killed, ranks too."""

from __future__ import annotations

import time
from pathlib import Path

from tests.helpers import HUNG, run_torchrun


def test_run_torchrun__a_hanging_job_is_killed_with_its_ranks(tmp_path):
    marker = tmp_path / "pids"
    marker.mkdir()
    script = tmp_path / "hang.py"
    script.write_text(f"import os, pathlib, time\n"
                      f"pathlib.Path({str(marker)!r}, str(os.getpid())).touch()\n"
                      f"time.sleep(600)\n")
    tic = time.monotonic()
    proc = run_torchrun(script, nproc=2, timeout=10)
    assert proc.returncode == HUNG and "still running after 10 s" in proc.stderr
    assert time.monotonic() - tic < 120
    pids = [int(p.name) for p in marker.iterdir()]
    assert len(pids) == 4  # two tries of two ranks
    time.sleep(0.5)
    assert not [pid for pid in pids if _running(pid)]


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
