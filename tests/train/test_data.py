"""Tests for jepa_core.train.data: the same order with or without workers, clean read errors."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import Dataset, default_collate

from jepa_core.modality import DataError
from jepa_core.train import DistEnv, EpochBatches


class Numbers(Dataset):
    """Sample ``i`` is ``[i]``; the ones in ``broken`` fail to read as a plugin's would."""

    def __init__(self, n: int, broken: dict[int, Exception] | None = None) -> None:
        self.n = n
        self.broken = broken or {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> torch.Tensor:
        if i in self.broken:
            raise self.broken[i]
        return torch.tensor([i])


def _run(batches: EpochBatches, start: int, end: int) -> list[tuple[int, list[int], list[int]]]:
    return [(step, ids.tolist(), batch.flatten().tolist())
            for step, ids, batch in batches.iterate(start, end)]


def test_epoch_batches__workers_keep_the_order_across_epochs_and_resume():
    plain = EpochBatches(Numbers(20), default_collate, 4, DistEnv(), seed=3)
    workers = EpochBatches(Numbers(20), default_collate, 4, DistEnv(), seed=3, num_workers=2)
    reference = _run(plain, 0, 13)  # 5 steps per epoch: three epochs, the last one partial
    assert [s for s, _, _ in reference] == list(range(13))
    assert all(ids == values for _, ids, values in reference)
    assert _run(workers, 0, 13) == reference
    assert _run(workers, 7, 13) == reference[7:]  # resumed mid-epoch


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("error", [DataError("scan7.bin: broken file"),
                                   FileNotFoundError(2, "No such file or directory", "scan7.bin")])
def test_epoch_batches__unreadable_sample_is_one_data_error(workers, error):
    batches = EpochBatches(Numbers(8, {7: error}), default_collate, 8, DistEnv(), seed=0,
                           num_workers=workers)
    with pytest.raises(DataError) as info:
        _run(batches, 0, 1)
    message = str(info.value)
    assert message.startswith("scan7.bin: ") and "Traceback" not in message and "worker" not in message


def test_epoch_batches__negative_workers_rejected():
    with pytest.raises(ValueError, match="data.num_workers"):
        EpochBatches(Numbers(8), default_collate, 4, DistEnv(), seed=0, num_workers=-1)
