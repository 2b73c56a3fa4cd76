"""Shared test helpers: device skips, tiny data makers, subprocess launchers."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def reference_masking() -> SimpleNamespace:
    """The masking ops pinned to their pure-PyTorch references (``backend="reference"``)."""
    from jepa_core.ops import masking

    return SimpleNamespace(**{name: functools.partial(getattr(masking, name), backend="reference")
                              for name in ("multiblock_masks", "random_subset_masks", "temporal_masks")})


def run_cli(*args: str, cwd: str | Path | None = None, env: dict | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python -m jepa_core.cli ARGS`` and return the finished process (no check)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "jepa_core.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


# A rank of a gloo job can, rarely, abort in C++ teardown after its work is done, or leave
# its peer waiting in a collective (both seen on this 2-core machine under load); such a
# launch is retried once, any other failure is not.
TEARDOWN_ABORT = "terminate called without an active exception"
HUNG = -9


def _descendants(pid: int) -> list[int]:
    """The process ids below ``pid`` (Linux ``/proc``), children first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _run_job(cmd: list[str], env: dict, timeout: int) -> subprocess.CompletedProcess:
    """Run the launcher ``cmd``; past ``timeout`` kill it and every process below it (the
    ranks, which torchrun starts in sessions of their own and which hold the output
    pipes), and report ``HUNG``."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        for pid in [*_descendants(proc.pid), proc.pid]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        out, err = proc.communicate()
        return subprocess.CompletedProcess(cmd, HUNG, out, f"{err}\n[killed: still running after {timeout} s]")


def run_torchrun(script: str | Path, *args: str, nproc: int = 2, env: dict | None = None,
                 timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``script`` under ``torchrun --nproc-per-node=nproc`` on CPU (gloo), each try
    bounded by ``timeout`` seconds."""
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}",
           "--standalone", str(script), *args]
    for _ in range(2):
        proc = _run_job(cmd, full_env, timeout)
        if proc.returncode == 0 or (proc.returncode != HUNG and TEARDOWN_ABORT not in proc.stderr):
            return proc
    return proc


def run_in_own_process(module: str, function: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Call ``module.function()`` in a fresh Python process (the repository root on its path),
    bounded by ``timeout`` seconds, with one more try if it hung.

    For tests that form an in-process gloo group: no state from other tests in the pytest
    process (a store, gloo threads, a half-formed group) can reach them, and a hang fails
    the test instead of stalling the whole run. The function signals failure by raising.
    """
    root = Path(__file__).resolve().parent.parent
    full_env = {**os.environ, "OMP_NUM_THREADS": "1",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    cmd = [sys.executable, "-c", f"import {module}; {module}.{function}()"]
    for _ in range(2):
        proc = _run_job(cmd, full_env, timeout)
        if proc.returncode != HUNG:
            break
    assert proc.returncode == 0, f"{module}.{function}() exit {proc.returncode}\n{proc.stderr[-4000:]}"
    return proc


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


def check_maskset(masks, num_tokens: int, token_valid: torch.Tensor | None = None,
                  disjoint: bool = True) -> None:
    """Assert a MaskSet is well formed: valid entries first, sorted, unique, in range, padded
    with 0, never an invalid token, and (``disjoint``) no context token among the targets."""
    for idx, valid in ((masks.context_idx, masks.context_valid),
                       (masks.target_idx.flatten(0, 1), masks.target_valid.flatten(0, 1))):
        assert idx.dtype == torch.int64 and valid.dtype == torch.bool
        count = valid.sum(-1, keepdim=True)
        assert torch.equal(valid, torch.arange(valid.shape[-1], device=valid.device) < count)
        assert bool((idx[~valid] == 0).all())
        assert bool(((idx >= 0) & (idx < num_tokens)).all())
        big = torch.where(valid, idx, num_tokens + torch.arange(idx.shape[-1], device=idx.device))
        assert bool((big[:, 1:] > big[:, :-1]).all()), "indices must be sorted and unique"
    b = masks.context_idx.shape[0]
    ctx = torch.zeros(b, num_tokens + 1, dtype=torch.bool, device=masks.context_idx.device)
    ctx.scatter_(1, torch.where(masks.context_valid, masks.context_idx, num_tokens), True)
    tgt = torch.zeros_like(ctx)
    t_idx = torch.where(masks.target_valid, masks.target_idx, num_tokens).flatten(1)
    tgt.scatter_(1, t_idx, True)
    ctx, tgt = ctx[:, :num_tokens], tgt[:, :num_tokens]
    if token_valid is not None:
        assert not bool((ctx & ~token_valid).any()) and not bool((tgt & ~token_valid).any())
    if disjoint:
        assert not bool((ctx & tgt).any()), "context and targets overlap"


def assert_masksets_equal(a, b) -> None:
    """Assert two MaskSets hold the same tensors (compared on CPU)."""
    for name in ("context_idx", "context_valid", "target_idx", "target_valid"):
        x, y = getattr(a, name).cpu(), getattr(b, name).cpu()
        assert x.shape == y.shape, f"{name}: {tuple(x.shape)} != {tuple(y.shape)}"
        assert torch.equal(x, y), f"{name} differs"


def triton_kernels_runnable() -> bool:
    """True when Triton kernels can run here: a CUDA device, or ``TRITON_INTERPRET=1`` on CPU."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available() or os.environ.get("TRITON_INTERPRET", "0") == "1"


requires_triton_kernels = pytest.mark.skipif(
    not triton_kernels_runnable(),
    reason="needs Triton with a CUDA device, or TRITON_INTERPRET=1 to run kernels on the CPU")


def kernel_device() -> str:
    """Where kernel tests run: ``cuda`` when present, else ``cpu`` (Triton interpreter)."""
    return "cuda" if torch.cuda.is_available() else "cpu"
