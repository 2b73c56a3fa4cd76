"""The tabular dataset: one dict of tensors per row."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from .transform import EncodedTable


class TabularDataset(Dataset):
    """Rows of an encoded table, each ``{"num", "num_missing", "cat"}``.

    Args:
        table: the encoded table (see :func:`~modalities.tabular.transform.apply_schema`).
        feature_names: token order of the features (numeric, then categorical).

    Shapes:
        item ``num`` ``[Fn]`` float32, ``num_missing`` ``[Fn]`` bool, ``cat`` ``[Fc]`` int64;
        ``default_collate`` stacks them to ``[B, Fn]`` and ``[B, Fc]``.

    Examples:
        >>> import numpy as np
        >>> t = EncodedTable(np.zeros((3, 2), np.float32), np.zeros((3, 2), bool),
        ...                  np.ones((3, 1), np.int64))
        >>> ds = TabularDataset(t, ["a", "b", "c"])
        >>> len(ds), ds[0]["cat"].tolist()
        (3, [1])
    """

    def __init__(self, table: EncodedTable, feature_names: list[str]) -> None:
        self.num = torch.from_numpy(table.num)
        self.num_missing = torch.from_numpy(table.num_missing)
        self.cat = torch.from_numpy(table.cat)
        self.feature_names = list(feature_names)

    def __len__(self) -> int:
        return self.num.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"num": self.num[index], "num_missing": self.num_missing[index],
                "cat": self.cat[index]}
