"""Shared test helpers: device skips, tiny data makers, subprocess launchers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def run_cli(*args: str, cwd: str | Path | None = None, env: dict | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python -m jepa_core.cli ARGS`` and return the finished process (no check)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "jepa_core.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def run_torchrun(script: str | Path, *args: str, nproc: int = 2, env: dict | None = None,
                 timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``script`` under ``torchrun --nproc-per-node=nproc`` on CPU (gloo)."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}",
           "--master-port=0", str(script), *args]
    return subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout)


def tiny_table(rows: int = 12, seed: int = 0):
    """A small mixed-type table: two float columns (one with gaps), a string category with a
    gap, a boolean, a low-cardinality integer; returns a pandas DataFrame."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    height = rng.normal(170.0, 10.0, rows).round(2)
    weight = rng.normal(70.0, 8.0, rows).round(2)
    weight[1] = np.nan
    color = np.array(["red", "green", "blue"], dtype=object)[np.arange(rows) % 3]
    color[2] = None
    return pd.DataFrame({"height": height, "weight": weight, "color": color,
                         "active": np.arange(rows) % 2 == 0, "level": np.arange(rows) % 4})
