"""The masker interface: draws context and target index sets for a batch."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from ..tokens import TokenLayout
from ..ops.masking import MaskSet


class Masker(ABC):
    """Draws a :class:`MaskSet` for a batch laid out on one grid.

    Draws are counter-based: keyed by ``seed``, ``step`` and each sample's id, so a run's
    masks do not depend on the number of ranks or on where it was resumed.
    """

    @abstractmethod
    def check(self, layout: TokenLayout) -> None:
        """Raise ``ValueError`` if this masker cannot draw masks on ``layout``."""

    @abstractmethod
    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        """Masks for ``batch_size`` samples.

        Args:
            sample_ids: ``[B]`` int64 global ids of the samples (default ``arange(B)``).
            token_valid: ``[B, N]`` bool; invalid tokens are never context nor target.
            token_empty: ``[B, N]`` bool; maskers that treat empty cells apart read it.
        """
