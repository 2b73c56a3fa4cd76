"""The launcher's environment (torchrun or any launcher that sets RANK/WORLD_SIZE).

Rank and world size are read from the environment, whatever the launcher; nothing is
decided at import time. When ``WORLD_SIZE > 1`` the process group is initialized (gloo on
CPU, NCCL on CUDA) and a failure is an error: we never drop to one process silently.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def env_from_launcher() -> DistEnv:
    """Read ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (defaults: a single process)."""
    try:
        return DistEnv(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                       int(os.environ.get("LOCAL_RANK", 0)))
    except ValueError as e:
        raise RuntimeError(f"bad RANK/WORLD_SIZE/LOCAL_RANK in the environment: {e}") from None


def init_distributed(env: DistEnv, device: torch.device, backend: str | None = None) -> None:
    """Initialize the default process group when running with more than one process."""
    if not env.distributed or dist.is_initialized():
        return
    backend = backend or ("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, rank=env.rank, world_size=env.world_size,
                            timeout=datetime.timedelta(minutes=10))


def shutdown_distributed() -> None:
    """Barrier, then destroy the process group (a rank that skips the barrier can abort)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def pick_device(requested: str, env: DistEnv) -> torch.device:
    """``auto`` means this rank's CUDA device when there is one, else the CPU."""
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda was asked for, but no CUDA device is available")
        return torch.device("cuda", env.local_rank % torch.cuda.device_count())
    if requested != "cpu":
        raise ValueError(f"device must be auto, cpu or cuda, got {requested!r}")
    return torch.device("cpu")
