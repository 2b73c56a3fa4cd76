"""Deterministic batches: per-epoch shuffles, split across ranks, resumable mid-epoch.

``data.batch_size`` is the global batch size. Each epoch's order is a permutation seeded
by (seed, epoch) through :class:`~torch.utils.data.DistributedSampler`; rank ``r`` of
``W`` takes every ``W``-th index, so the samples of global step ``s`` are the same
whatever the world size. Resuming at step ``s`` skips the first batches of the epoch
without loading them.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

from .distributed import DistEnv


class IndexedDataset(Dataset):
    """Wraps a dataset so that every item carries its row index (the global sample id)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[int, Any]:
        return i, self.dataset[i]


def local_batch_size(global_batch: int, env: DistEnv) -> int:
    """This rank's share of the global batch; it must split evenly."""
    if global_batch % env.world_size:
        raise ValueError(f"data.batch_size {global_batch} does not split over {env.world_size} ranks")
    return global_batch // env.world_size


def steps_per_epoch(num_samples: int, global_batch: int) -> int:
    """Full global batches in one epoch (the tail is dropped, a different one each epoch)."""
    steps = num_samples // global_batch
    if steps < 1:
        raise ValueError(f"the dataset has {num_samples} samples, fewer than one batch of "
                         f"{global_batch}; lower data.batch_size (--batch-size)")
    return steps


class EpochBatches:
    """Yields ``(step, sample_ids, raw_batch)`` from a start step onwards, epoch after epoch."""

    def __init__(self, dataset: Dataset, collate: Callable[[list], Any], global_batch: int,
                 env: DistEnv, seed: int, num_workers: int = 0) -> None:
        self.dataset = IndexedDataset(dataset)
        self.collate = collate
        self.env = env
        self.seed = seed
        self.num_workers = num_workers
        self.local_batch = local_batch_size(global_batch, env)
        self.steps_per_epoch = steps_per_epoch(len(dataset), global_batch)

    def _collate(self, items: list) -> tuple[torch.Tensor, Any]:
        ids = torch.tensor([i for i, _ in items], dtype=torch.long)
        return ids, self.collate([s for _, s in items])

    def _epoch_batches(self, epoch: int) -> list[list[int]]:
        sampler = DistributedSampler(self.dataset, num_replicas=self.env.world_size, rank=self.env.rank,
                                     shuffle=True, seed=self.seed, drop_last=True)
        sampler.set_epoch(epoch)
        order = list(sampler)
        b = self.local_batch
        return [order[i * b:(i + 1) * b] for i in range(self.steps_per_epoch)]

    def iterate(self, start_step: int, end_step: int) -> Iterator[tuple[int, torch.Tensor, Any]]:
        step = start_step
        while step < end_step:
            epoch, offset = divmod(step, self.steps_per_epoch)
            batches = self._epoch_batches(epoch)[offset:offset + (end_step - step)]
            loader = DataLoader(self.dataset, batch_sampler=batches, collate_fn=self._collate,
                                num_workers=self.num_workers)
            for ids, batch in loader:
                yield step, ids, batch
                step += 1
