"""Mask sampling ops and what they are built from: Philox draws, block shapes, plans,
the pure-PyTorch references and :class:`MaskSet`.

The maskers in :mod:`jepa_core.masking` call these; nothing here knows the maskers.
"""

from .maskset import MaskSet
from .masks import BACKENDS, masking_backend, multiblock_masks, random_subset_masks, temporal_masks

__all__ = ["BACKENDS", "MaskSet", "masking_backend", "multiblock_masks", "random_subset_masks",
           "temporal_masks"]
