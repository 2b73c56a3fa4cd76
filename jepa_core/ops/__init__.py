"""Compiled ops and their dispatch: the only package that knows what is compiled."""

from .attention import attention_backend, masked_attention
from .capabilities import summary as capabilities
from .capabilities import triton_version
from .gather import gather_tokens
from .masking import masking_backend, multiblock_masks, random_subset_masks, temporal_masks

__all__ = ["attention_backend", "capabilities", "gather_tokens", "masked_attention", "masking_backend",
           "multiblock_masks", "random_subset_masks", "temporal_masks", "triton_version"]
