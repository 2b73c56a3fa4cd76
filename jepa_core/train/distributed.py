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


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} in the environment is not an integer") from None


def env_from_launcher() -> DistEnv:
    """Read ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` (defaults: a single process).

    Raises:
        ValueError: a value that is not an integer, ``WORLD_SIZE > 1`` without ``RANK``
            (every process would think it is rank 0), or a rank outside the world.
    """
    world = _int_env("WORLD_SIZE", 1)
    if world > 1 and "RANK" not in os.environ:
        raise ValueError(f"WORLD_SIZE={world} is set but RANK is not; start the job with torchrun "
                         "(or a launcher that sets RANK, WORLD_SIZE and LOCAL_RANK)")
    env = DistEnv(_int_env("RANK", 0), world, _int_env("LOCAL_RANK", 0))
    if world < 1 or not 0 <= env.rank < world or env.local_rank < 0:
        raise ValueError(f"inconsistent launcher environment: RANK={env.rank}, WORLD_SIZE={world}, "
                         f"LOCAL_RANK={env.local_rank}")
    return env


def init_distributed(env: DistEnv, device: torch.device, backend: str | None = None) -> None:
    """Initialize the default process group when running with more than one process.

    Args:
        env: this process's place in the job (nothing happens for one process).
        device: this rank's device: NCCL for CUDA, gloo for the CPU, unless ``backend``.
        backend: ``dist.backend`` from the config, to override the choice.

    Raises:
        ValueError: NCCL asked for on a CPU device.
    """
    if not env.distributed or dist.is_initialized():
        return
    backend = backend or ("nccl" if device.type == "cuda" else "gloo")
    if backend == "nccl" and device.type != "cuda":
        raise ValueError("dist.backend=nccl needs CUDA devices; use gloo (the default) on the CPU")
    device_id = None
    if device.type == "cuda":
        torch.cuda.set_device(device)
        device_id = device
    dist.init_process_group(backend=backend, rank=env.rank, world_size=env.world_size,
                            timeout=datetime.timedelta(minutes=10), device_id=device_id)


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
