"""MultiBlockMasker: I-JEPA / V-JEPA multiblock masks on 1-D, 2-D and 3-D token grids."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor

from ..config import ComponentConfig
from ..tokens import TokenLayout
from ..ops.masking import MaskSet, multiblock_masks
from ..ops.masking.plans import plan_multiblock
from .base import Masker


@dataclass
class MultiBlockSettings:
    """What a multiblock masker draws (see :class:`MultiBlockMasker`); its ``mask:``
    section and the masker itself both hold these fields."""

    num_targets: int = 4
    target_scale: tuple[float, float] = (0.15, 0.2)
    target_aspect: tuple[float, float] = (0.75, 1.5)
    context_scale: tuple[float, float] = (0.85, 1.0)
    context_aspect: tuple[float, float] = (1.0, 1.0)
    min_keep: int = 4
    allow_overlap: bool = False
    temporal_scale: tuple[float, float] = (1.0, 1.0)
    #: False: block sides stay below the grid's (I-JEPA's collator: ``h < H``, ``w < W``).
    full_span: bool = True


@dataclass
class MultiBlockConfig(MultiBlockSettings, ComponentConfig):
    """``mask:`` section of the multiblock masker: ``name`` and :class:`MultiBlockSettings`."""


@dataclass
class MultiBlockMasker(Masker, MultiBlockSettings):
    """``num_targets`` target blocks and a context block minus them, per sample.

    Block shapes are drawn once per batch from ``(seed, step)``; positions per sample from
    its global id. See :func:`jepa_core.ops.masking.multiblock_masks`.

    Examples:
        >>> masker = MultiBlockMasker(num_targets=2)
        >>> masker(3, TokenLayout((8, 8)), seed=0, step=5).target_idx.shape[:2]
        torch.Size([3, 2])
    """

    config_class = MultiBlockConfig

    def _kwargs(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(MultiBlockSettings)}

    def check(self, layout: TokenLayout) -> None:
        plan_multiblock(1, layout.grid, seed=0, step=0, **self._kwargs())

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_types: Tensor | None = None, token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        return multiblock_masks(batch_size, layout.grid, seed=seed, step=step, device=device,
                                token_valid=token_valid, sample_ids=sample_ids, **self._kwargs())
