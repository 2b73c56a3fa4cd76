"""The launcher's environment (torchrun or any launcher that sets RANK/WORLD_SIZE).

Rank and world size are read from the environment, whatever the launcher; nothing is
decided at import time. When ``WORLD_SIZE > 1`` the process group is initialized (gloo on
CPU, NCCL on CUDA) and a failure is an error: we never drop to one process silently.
A :class:`Heartbeat` names the rank that stalled instead of a bare collective timeout.
"""

from __future__ import annotations

import datetime
import os
import re
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


#: Ranks get at least this long to join the job (start up and connect), even when
#: ``dist.timeout_s`` is shorter: a rank importing torch on a busy machine is slow, not stalled.
JOIN_TIMEOUT_S = 120.0


def init_distributed(env: DistEnv, device: torch.device, backend: str | None = None,
                     timeout_s: float = 600.0) -> None:
    """Initialize the default process group when running with more than one process.

    The ranks join with a timeout of ``max(timeout_s, JOIN_TIMEOUT_S)``; the group's
    collectives then wait ``timeout_s``.

    Args:
        env: this process's place in the job (nothing happens for one process).
        device: this rank's device: NCCL for CUDA, gloo for the CPU, unless ``backend``.
        backend: ``dist.backend`` from the config, to override the choice.
        timeout_s: ``dist.timeout_s``: how long a collective waits for the other ranks.

    Raises:
        ValueError: NCCL asked for on a CPU device, or a timeout that is not positive.
        TrainingError: the process group could not be formed (a rank that never joined,
            an unreachable ``MASTER_ADDR:MASTER_PORT``): one line saying so.
    """
    if not env.distributed or dist.is_initialized():
        return
    if not timeout_s > 0:
        raise ValueError(f"dist.timeout_s must be > 0 seconds, got {timeout_s}")
    backend = backend or ("nccl" if device.type == "cuda" else "gloo")
    if backend == "nccl" and device.type != "cuda":
        raise ValueError("dist.backend=nccl needs CUDA devices; use gloo (the default) on the CPU")
    device_id = None
    if device.type == "cuda":
        torch.cuda.set_device(device)
        device_id = device
    join_s = max(timeout_s, JOIN_TIMEOUT_S)
    try:
        dist.init_process_group(backend=backend, rank=env.rank, world_size=env.world_size,
                                timeout=datetime.timedelta(seconds=join_s), device_id=device_id)
    except RuntimeError as e:  # DistError, DistStoreError and gloo's connect errors
        from .trainer import TrainingError

        where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise TrainingError(f"rank {env.rank} of {env.world_size} could not join the {backend} process "
                            f"group at {where} within {join_s:g} s: {reason}") from None
    if join_s != timeout_s:
        dist.distributed_c10d._set_pg_timeout(datetime.timedelta(seconds=timeout_s))


def shutdown_distributed(barrier: bool = True) -> None:
    """Barrier, then destroy the process group (a rank that skips the barrier can abort).

    Args:
        barrier: wait for the other ranks first; ``False`` when this rank is failing, so
            that it exits (and the launcher stops the job) instead of waiting for a rank
            that may be the stalled one.
    """
    if dist.is_available() and dist.is_initialized():
        if barrier:
            dist.barrier()
        dist.destroy_process_group()


_MISSING_RANKS = re.compile(r"Ranks? ([\d,\s]+) failed to pass monitoredBarrier")


def is_collective_timeout(error: BaseException) -> bool:
    """True for the error a collective raises when another rank never joined it."""
    return isinstance(error, dist.DistError) or "timed out" in str(error).lower()


class Heartbeat:
    """A monitored barrier on a side gloo group that names the ranks that did not arrive.

    Rank 0 waits up to ``timeout_s`` for every other rank (``dist.monitored_barrier``,
    gloo even under NCCL) and learns which ones are missing; the others learn only that
    rank 0 did not answer. Nothing happens for one process.

    Args:
        env: this process's place in the job.
        timeout_s: how long the barrier waits (``dist.timeout_s``).
        every: meet every this many steps (``dist.heartbeat_every``); 0 only when asked
            through :meth:`diagnose`.
    """

    def __init__(self, env: DistEnv, timeout_s: float, every: int) -> None:
        self.env = env
        self.every = every
        self.timeout = datetime.timedelta(seconds=timeout_s)
        self.group = dist.new_group(backend="gloo", timeout=self.timeout) \
            if env.distributed and dist.is_initialized() else None

    def check(self, step: int, force: bool = False) -> str | None:
        """Meet the other ranks when ``step`` is a heartbeat step (or ``force``).

        Returns:
            ``None`` when every rank arrived, else a message naming the missing ranks.
        """
        if self.group is None or not (force or (self.every > 0 and step % self.every == 0)):
            return None
        try:
            dist.monitored_barrier(group=self.group, timeout=self.timeout, wait_all_ranks=True)
        except RuntimeError as e:
            return self._message(step, str(e))
        return None

    def diagnose(self, step: int, error: BaseException) -> str:
        """After a collective timed out at ``step``: which rank is missing."""
        missing = self.check(step, force=True)
        return missing or (f"rank {self.env.rank}: a collective timed out at step {step} "
                           f"(dist.timeout_s={self._seconds()}) although every rank then reached "
                           f"the heartbeat: {error}")

    def _seconds(self) -> str:
        return f"{self.timeout.total_seconds():g}"

    def _message(self, step: int, error: str) -> str:
        world = self.env.world_size
        m = _MISSING_RANKS.search(error)
        if self.env.is_main and m:
            ranks = [int(r) for r in re.split(r"[,\s]+", m.group(1).strip()) if r]
            names = ", ".join(map(str, ranks))
            return (f"rank{'s' if len(ranks) > 1 else ''} {names} of {world} did not answer the "
                    f"heartbeat at step {step} within dist.timeout_s={self._seconds()} s: stalled or dead (see "
                    f"{'their logs' if len(ranks) > 1 else 'its log'}; a hung data loader, a full "
                    f"disk, a lost node); raise dist.timeout_s if its steps are only slow")
        if not self.env.is_main:
            return (f"rank {self.env.rank} of {world}: no answer from rank 0 at step {step} "
                    f"within dist.timeout_s={self._seconds()} s: rank 0 stalled, or is waiting "
                    f"for another rank, which its error names")
        return f"the heartbeat of the {world} ranks failed at step {step}: {error}"


def pick_device(requested: str, env: DistEnv) -> torch.device:
    """``auto`` means this rank's CUDA device when there is one, else the CPU.

    Raises:
        ConfigError: ``cuda`` without a CUDA device, or a device name it does not know.
    """
    from ..config import ConfigError

    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for, but no CUDA device is available")
        return torch.device("cuda", env.local_rank % torch.cuda.device_count())
    if requested != "cpu":
        raise ConfigError(f"device must be auto, cpu or cuda, got {requested!r}")
    return torch.device("cpu")
