"""RandomSubsetMasker: disjoint random context/target token subsets (T-JEPA, random patches)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..config import ComponentConfig
from ..tokens import TokenLayout
from ..ops.masking import MaskSet, random_subset_masks
from ..ops.masking.plans import plan_random_subset
from .base import Masker


@dataclass
class RandomSubsetConfig(ComponentConfig):
    """``mask:`` section of the random-subset masker (see :class:`RandomSubsetMasker`)."""

    context_ratio: float = 0.5
    target_ratio: float = 0.25


@dataclass
class RandomSubsetMasker(Masker):
    """Per sample, ``context_ratio`` of the valid tokens as context and a disjoint
    ``target_ratio`` as the single target set (``M = 1``).

    Examples:
        >>> m = RandomSubsetMasker(0.5, 0.25)(2, TokenLayout((8,)), seed=0, step=0)
        >>> m.context_idx.shape, m.target_idx.shape
        (torch.Size([2, 4]), torch.Size([2, 1, 2]))
    """

    context_ratio: float = 0.5
    target_ratio: float = 0.25
    config_class = RandomSubsetConfig

    def check(self, layout: TokenLayout) -> None:
        plan = plan_random_subset(1, layout.grid, context_ratio=self.context_ratio,
                                  target_ratio=self.target_ratio)
        if layout.num_tokens < 2:
            raise ValueError(f"random_subset needs at least 2 tokens, the grid {layout.grid} has "
                             f"{layout.num_tokens}")
        del plan

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_types: Tensor | None = None, token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        return random_subset_masks(batch_size, layout.grid, context_ratio=self.context_ratio,
                                   target_ratio=self.target_ratio, seed=seed, step=step,
                                   device=device, token_valid=token_valid, sample_ids=sample_ids)
