"""TemporalMasker: hide the last frames (or a random span) of a ``T x ...`` token grid."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import Tensor

from ..config import ComponentConfig
from ..tokens import TokenLayout
from ..ops.masking import MaskSet, temporal_masks
from ..ops.masking.plans import plan_temporal
from .base import Masker


@dataclass
class TemporalConfig(ComponentConfig):
    """``mask:`` section of the temporal masker: ``frames`` hidden, ``span`` ``last`` or
    ``random`` (0.1 spelled them ``temporal_frames`` and ``temporal_span``)."""

    frames: int = 1
    span: str = "last"
    renamed: ClassVar[dict[str, str]] = {"temporal_frames": "frames", "temporal_span": "span"}


@dataclass
class TemporalMasker(Masker):
    """Context: the visible frames; target (``M = 1``): ``frames`` hidden frames.

    Examples:
        >>> m = TemporalMasker(frames=1)(1, TokenLayout((2, 2)), seed=0, step=0)
        >>> m.context_idx.tolist(), m.target_idx.tolist()
        ([[0, 1]], [[[2, 3]]])
    """

    frames: int = 1
    random_span: bool = False
    config_class = TemporalConfig

    @classmethod
    def from_config(cls, cfg: TemporalConfig) -> "TemporalMasker":
        if cfg.span not in ("last", "random"):
            raise ValueError(f"mask.span must be 'last' or 'random', got {cfg.span!r}")
        return cls(frames=cfg.frames, random_span=cfg.span == "random")

    def check(self, layout: TokenLayout) -> None:
        plan_temporal(1, layout.grid, frames=self.frames, random_span=self.random_span)

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_types: Tensor | None = None, token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        return temporal_masks(batch_size, layout.grid, frames=self.frames, seed=seed, step=step,
                              random_span=self.random_span, device=device, token_valid=token_valid,
                              sample_ids=sample_ids)
