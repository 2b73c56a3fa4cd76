"""Maskers: which tokens the context encoder sees and which ones are predicted."""

from ..config import MaskConfig
from .base import Masker
from .maskset import MaskSet

__all__ = ["Masker", "MaskSet", "create_masker"]


def create_masker(cfg: MaskConfig) -> Masker:
    """The masker named by ``cfg.name``, configured from ``cfg``."""
    raise NotImplementedError("maskers land with the masking module")
