"""A :class:`~jepa_core.train.Trainer` for timing its training step outside a run.

The benchmarks time :meth:`Trainer.train_step` itself, the step ``jepa pretrain`` runs,
rather than a copy of it: :func:`bench_trainer` builds a trainer over a dataset with no
run directory written, and :func:`device_batches` pre-collates batches onto the device
so the timing leaves data loading out.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch
from torch.utils.data import Dataset

from ..config import Config
from ..method import JEPA
from ..modality import move_to
from ..run import RunDir
from ..train import DistEnv, EpochBatches, Trainer


def bench_trainer(model: JEPA, cfg: Config, dataset: Dataset, collate: Callable[[list], Any],
                  device: torch.device | str, steps: int) -> Trainer:
    """A single-process trainer of ``model`` whose schedules span ``steps`` steps.

    Only ``train_step`` is meant to be called: nothing is written (its run directory is
    a path that is never created).
    """
    cfg = dataclasses.replace(cfg, optim=dataclasses.replace(cfg.optim, steps=max(int(steps), 1)))
    env = DistEnv()
    batches = EpochBatches(dataset, collate, cfg.data.batch_size, env, cfg.optim.seed)
    run = RunDir(Path(tempfile.gettempdir()) / "jepa-bench-unused-run")
    return Trainer(model, cfg, batches, run, env, torch.device(device))


def device_batches(trainer: Trainer, count: int) -> list[tuple[torch.Tensor, Any]]:
    """``count`` batches ``(sample_ids, raw_batch)`` of the trainer's data order, on its device."""
    out = []
    for _, ids, batch in trainer.batches.iterate(0, count):
        out.append((ids.to(trainer.device), move_to(batch, trainer.device)))
    return out


def synchronize(device: torch.device) -> None:
    """Wait for queued work on ``device`` (CUDA); nothing on the CPU."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
