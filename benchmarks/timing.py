"""Step timing shared by the benchmark scripts: device sync and interleaved timing."""

from __future__ import annotations

import time
from typing import Callable

import torch


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); nothing on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_interleaved(fns: dict[str, Callable[[], object]], steps: int, warmup: int,
                     device: torch.device) -> dict[str, list[float]]:
    """Seconds per step of each function, alternating between them (fair under a shared CPU)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {k: [] for k in fns}
    for _ in range(steps):
        for k, fn in fns.items():
            sync(device)
            tic = time.perf_counter()
            fn()
            sync(device)
            times[k].append(time.perf_counter() - tic)
    return times
