"""MaskSet: which tokens the context encoder sees and which ones the predictor predicts."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


def _used_columns(valid: Tensor) -> int:
    """Columns holding a valid entry in any row (valid entries come first in every row)."""
    if valid.numel() == 0:
        return 0
    rows = valid.reshape(-1, valid.shape[-1])
    if rows.device.type == "cpu":
        # numpy's single-threaded reduction: torch's thread pool costs more than this small job.
        return int(rows.numpy().any(axis=0).sum())
    return int(rows.sum(-1).max())


def _used_widths(*valids: Tensor) -> list[int]:
    """:func:`_used_columns` of each, read from a device in one synchronisation, not one each."""
    if all(v.device.type == "cpu" or v.numel() == 0 for v in valids):
        return [_used_columns(v) for v in valids]
    widths = [v.reshape(-1, v.shape[-1]).sum(-1).max() if v.numel() else v.new_zeros((), dtype=torch.long)
              for v in valids]
    return torch.stack(widths).tolist()


@dataclass
class MaskSet:
    """Padded index sets with validity; every sample keeps all of its indices.

    Indices are sorted per sample (per target block) and padded with ``0`` where the
    matching validity is ``False``; consumers must read the validity, never the padding.

    Shapes:
        context_idx ``[B, Kc]`` int64, context_valid ``[B, Kc]`` bool,
        target_idx ``[B, M, Kt]`` int64, target_valid ``[B, M, Kt]`` bool.
    """

    context_idx: Tensor
    context_valid: Tensor
    target_idx: Tensor
    target_valid: Tensor

    def __post_init__(self) -> None:
        b, kc = self.context_idx.shape
        if self.context_valid.shape != (b, kc):
            raise ValueError("context_valid must match context_idx")
        if self.target_idx.dim() != 3 or self.target_idx.shape[0] != b:
            raise ValueError(f"target_idx must be [B, M, Kt], got {tuple(self.target_idx.shape)}")
        if self.target_valid.shape != self.target_idx.shape:
            raise ValueError("target_valid must match target_idx")

    @property
    def num_targets(self) -> int:
        return self.target_idx.shape[1]

    def to(self, device: torch.device | str) -> "MaskSet":
        return MaskSet(*(t.to(device) for t in (self.context_idx, self.context_valid,
                                                 self.target_idx, self.target_valid)))

    def trimmed(self) -> "MaskSet":
        """Drop trailing padding columns that no sample uses (valid entries come first).

        Examples:
            >>> m = MaskSet(torch.tensor([[3, 0, 0]]), torch.tensor([[True, False, False]]),
            ...             torch.zeros(1, 1, 2, dtype=torch.long), torch.ones(1, 1, 2, dtype=torch.bool))
            >>> m.trimmed().context_idx
            tensor([[3]])
        """
        kc, kt = _used_widths(self.context_valid, self.target_valid)  # the shapes need the values
        return MaskSet(self.context_idx[:, :kc], self.context_valid[:, :kc],
                       self.target_idx[..., :kt], self.target_valid[..., :kt])
