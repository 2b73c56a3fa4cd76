"""The masker interface: draws context and target index sets for a batch."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch
from torch import Tensor

from ..tokens import TokenLayout
from ..ops.masking import MaskSet


class Masker(ABC):
    """Draws a :class:`MaskSet` for a batch laid out on one grid.

    Draws are counter-based: keyed by ``seed``, ``step`` and each sample's id, so a run's
    masks do not depend on the number of ranks or on where it was resumed.

    A masker is a component (entry-point group ``jepa_core.maskers``): ``config_class``
    is its own :class:`~jepa_core.config.ComponentConfig` dataclass (the ``mask:``
    section), and :meth:`from_config` builds it from one.
    """

    config_class: ClassVar[type | None] = None

    @classmethod
    def from_config(cls, cfg: Any) -> "Masker":
        """Build from the ``mask`` section: its fields (all but ``name``) as keyword args."""
        return cls(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
                      if f.name != "name"})

    @abstractmethod
    def check(self, layout: TokenLayout) -> None:
        """Raise ``ValueError`` if this masker cannot draw masks on ``layout``."""

    @abstractmethod
    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_types: Tensor | None = None, token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        """Masks for ``batch_size`` samples.

        Args:
            sample_ids: ``[B]`` int64 global ids of the samples (default ``arange(B)``).
            token_valid: ``[B, N]`` bool; invalid tokens are never context nor target.
            token_types: ``[B, N]`` int, the tokenizer's ``TokenBatch.types`` (0: ordinary);
                maskers that treat some types apart (``bev``: empty cells) read it.
            token_empty: deprecated, ``[B, N]`` bool, the same as ``token_types != 0``.

        A batch without a grid comes with ``layout = TokenLayout((N,))`` of its padded
        length (``TokenBatch.mask_layout``).
        """
