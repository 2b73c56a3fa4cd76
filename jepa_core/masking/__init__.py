"""Maskers: which tokens the context encoder sees and which ones are predicted."""

from __future__ import annotations

from ..config import MaskConfig
from ..ops.masking import MaskSet
from .base import Masker
from .bev import BevMasker
from .multiblock import MultiBlockMasker
from .random_subset import RandomSubsetMasker
from .temporal import TemporalMasker

__all__ = ["MASKERS", "Masker", "MaskSet", "MultiBlockMasker", "RandomSubsetMasker",
           "TemporalMasker", "create_masker"]

#: Masker name -> class with a ``from_config(MaskConfig)`` constructor.
MASKERS: dict[str, type] = {
    "bev": BevMasker,
    "multiblock": MultiBlockMasker,
    "random_subset": RandomSubsetMasker,
    "temporal": TemporalMasker,
}


def create_masker(cfg: MaskConfig) -> Masker:
    """The masker named by ``cfg.name``, configured from ``cfg``.

    Examples:
        >>> type(create_masker(MaskConfig(name="temporal", temporal_frames=2))).__name__
        'TemporalMasker'
    """
    try:
        cls = MASKERS[cfg.name]
    except KeyError:
        raise ValueError(f"unknown masker {cfg.name!r}; known: {sorted(MASKERS)}") from None
    return cls.from_config(cfg)
