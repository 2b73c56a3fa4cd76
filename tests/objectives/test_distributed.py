"""Distributed correctness of the objectives: 2 ranks x batch b == 1 process x batch 2b."""

from pathlib import Path

import pytest
import torch.distributed as dist

from tests.helpers import run_torchrun

SCRIPT = Path(__file__).with_name("dist_objectives_script.py")


@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")
def test_objectives__two_ranks_equal_one_process_on_the_global_batch():
    proc = run_torchrun(SCRIPT, nproc=2, timeout=180)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr[-4000:]}"
    assert "OK rank 0" in proc.stdout and "OK rank 1" in proc.stdout, proc.stdout
