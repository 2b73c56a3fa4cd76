"""Deterministic batches: per-epoch shuffles, split across ranks, resumable mid-epoch.

``data.batch_size`` is the global batch size. Each epoch's order is a permutation seeded
by (seed, epoch) through :class:`~torch.utils.data.DistributedSampler`; rank ``r`` of
``W`` takes every ``W``-th index, so the samples of global step ``s`` are the same
whatever the world size. Resuming at step ``s`` skips the first batches of the epoch
without loading them.

Samples may be decoded lazily in ``data.num_workers`` DataLoader worker processes: the
order is fixed in the main process, the workers only read, and they stay up from epoch
to epoch. A sample that cannot be read (a :class:`~jepa_core.modality.DataError` or an
``OSError``, e.g. a file deleted after it was listed) stops the iteration with one
``DataError`` naming it, raised in the main process (not a worker's traceback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from ..modality import DataError
from .distributed import DistEnv


@dataclass
class SampleFailure:
    """Stands in for a sample (and its batch) that could not be read; says why."""

    message: str


class IndexedDataset(Dataset):
    """Wraps a dataset so that every item carries its row index (the global sample id).

    A sample that fails to read becomes a :class:`SampleFailure`, so the error reaches
    the main process as data rather than as a worker's traceback.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[int, Any]:
        try:
            return i, self.dataset[i]
        except DataError as e:
            return i, SampleFailure(str(e))
        except OSError as e:
            where = f"{e.filename}: " if getattr(e, "filename", None) else f"sample {i}: "
            return i, SampleFailure(f"{where}cannot be read ({e.strerror or e})")


class _BatchList:
    """A batch sampler whose batches are set before each pass (one DataLoader for all epochs)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def local_batch_size(global_batch: int, env: DistEnv) -> int:
    """This rank's share of the global batch; it must split evenly."""
    if global_batch % env.world_size:
        raise ValueError(f"data.batch_size {global_batch} does not split over {env.world_size} ranks")
    return global_batch // env.world_size


def steps_per_epoch(num_samples: int, global_batch: int, source: str | None = None) -> int:
    """Full global batches in one epoch (the tail is dropped, a different one each epoch).

    Args:
        num_samples: the dataset's size.
        global_batch: ``data.batch_size``.
        source: the data's file or folder, named in the error.

    Raises:
        ValueError: fewer samples than one batch (suggesting a batch size that fits).

    Examples:
        >>> steps_per_epoch(300, 128)
        2
    """
    steps = num_samples // global_batch
    if steps < 1:
        fits = 1 << max(0, (num_samples // 2).bit_length() - 1)  # a power of 2, about 2+ steps
        where = f"{source}: " if source else ""
        raise ValueError(f"{where}the dataset has {num_samples} samples, fewer than one batch of "
                         f"{global_batch}; lower data.batch_size (--batch-size), e.g. "
                         f"--batch-size {fits}")
    return steps


class EpochBatches:
    """Yields ``(step, sample_ids, raw_batch)`` from a start step onwards, epoch after epoch.

    Args:
        dataset: the samples (read in ``__getitem__``, possibly lazily).
        collate: the plugin's collate function.
        global_batch: ``data.batch_size``.
        env: this process's rank and world size.
        seed: the run seed (fixes every epoch's order).
        num_workers: DataLoader worker processes (0: read in the main process).
        pin_memory: page-locked batches, for asynchronous copies to a GPU (the trainer
            sets it when training on CUDA).
        source: the data's file or folder, for messages.
    """

    def __init__(self, dataset: Dataset, collate: Callable[[list], Any], global_batch: int,
                 env: DistEnv, seed: int, num_workers: int = 0, pin_memory: bool = False,
                 source: str | None = None) -> None:
        if num_workers < 0:
            raise ValueError(f"data.num_workers must be >= 0, got {num_workers}")
        self.dataset = IndexedDataset(dataset)
        self.collate = collate
        self.env = env
        self.seed = seed
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.local_batch = local_batch_size(global_batch, env)
        self.steps_per_epoch = steps_per_epoch(len(dataset), global_batch, source)

    def _collate(self, items: list) -> tuple[torch.Tensor, Any]:
        ids = torch.tensor([i for i, _ in items], dtype=torch.long)
        failed = next((s for _, s in items if isinstance(s, SampleFailure)), None)
        return ids, failed if failed is not None else self.collate([s for _, s in items])

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        sampler = DistributedSampler(self.dataset, num_replicas=self.env.world_size, rank=self.env.rank,
                                     shuffle=True, seed=self.seed, drop_last=True)
        sampler.set_epoch(epoch)
        order = list(sampler)
        b = self.local_batch
        return [order[i * b:(i + 1) * b] for i in range(self.steps_per_epoch)]

    def _loader(self, batches: _BatchList) -> DataLoader:
        workers = self.num_workers > 0
        return DataLoader(self.dataset, batch_sampler=batches, collate_fn=self._collate,
                          num_workers=self.num_workers, pin_memory=self.pin_memory,
                          persistent_workers=workers, prefetch_factor=2 if workers else None)

    def iterate(self, start_step: int, end_step: int) -> Iterator[tuple[int, torch.Tensor, Any]]:
        """Batches of steps ``start_step .. end_step - 1``, in the run's fixed order.

        Raises:
            DataError: a sample could not be read (the message names it).
        """
        step = start_step
        batches = _BatchList()
        loader = self._loader(batches)  # its workers live until this generator ends
        while step < end_step:
            epoch, offset = divmod(step, self.steps_per_epoch)
            batches.batches = self._epoch_batches(epoch)[offset:offset + (end_step - step)]
            for ids, batch in loader:
                if isinstance(batch, SampleFailure):
                    raise DataError(batch.message)
                yield step, ids, batch
                step += 1
