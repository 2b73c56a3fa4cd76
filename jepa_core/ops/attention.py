"""Attention dispatch for every transformer block: fused Triton kernel or SDPA.

CUDA tensors with Triton present go to the fused masked-attention kernel
(:mod:`jepa_core.kernels.masked_attention`, imported lazily so ``import jepa_core``
never needs Triton); everything else goes to ``scaled_dot_product_attention`` with the
key-validity mask. The environment variable ``JEPA_ATTENTION`` overrides the choice:

* ``auto`` (default): Triton on CUDA when it is installed, SDPA otherwise;
* ``triton``: the kernel wherever it can run, which includes CPU tensors under Triton's
  interpreter (``TRITON_INTERPRET=1``, slow; for tests);
* ``sdpa``: always SDPA.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import Tensor

from .capabilities import triton_available, triton_interpreting, warn_once

BACKENDS = ("auto", "triton", "sdpa")
KERNEL_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
KERNEL_MAX_HEAD_DIM = 128


def masked_attention_reference(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor | None = None,
                               scale: float | None = None) -> Tensor:
    """Softmax attention over valid keys; rows without any valid key give zeros.

    Eager and memory-hungry (materialises the ``N x Nk`` scores in fp32): the ground
    truth the kernel is tested against.

    Shapes:
        q, k, v ``[B, H, N, Dh]`` (k, v may have another length ``Nk``),
        key_valid ``[B, Nk]`` or ``[B, N, Nk]`` bool; returns ``[B, H, N, Dh]``.
    """
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    scores = torch.einsum("bhnd,bhmd->bhnm", q.float(), k.float()) * scale
    if key_valid is not None:
        scores = scores.masked_fill(~_per_query(key_valid)[:, None], float("-inf"))
    probs = torch.softmax(scores, dim=-1).nan_to_num(0.0)
    return torch.einsum("bhnm,bhmd->bhnd", probs, v.float()).to(q.dtype)


def _per_query(key_valid: Tensor) -> Tensor:
    """A ``[B, Nk]`` key mask as ``[B, 1, Nk]``; a ``[B, N, Nk]`` per-query mask as is."""
    return key_valid if key_valid.dim() == 3 else key_valid[:, None, :]


def sdpa_masked_attention(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor | None = None,
                          scale: float | None = None) -> Tensor:
    """SDPA with a boolean key mask (``[B, Nk]`` or per query ``[B, N, Nk]``); rows
    without a valid key give zeros, not NaN.

    On the CPU, half-precision inputs (and any under CPU autocast) are attended in
    float32 and cast back: the CPU's half-precision SDPA backward is many times slower
    than float32's, while the matrix products around it gain from bf16.
    """
    if q.device.type == "cpu" and (q.dtype in (torch.bfloat16, torch.float16)
                                   or torch.is_autocast_enabled("cpu")):
        with torch.autocast("cpu", enabled=False):
            out = sdpa_masked_attention(q.float(), k.float(), v.float(), key_valid, scale)
        return out.to(q.dtype)
    if key_valid is None:
        return F.scaled_dot_product_attention(q, k, v, scale=scale)
    allowed = _per_query(key_valid)
    any_valid = allowed.any(dim=-1)  # [B, N or 1]
    # A row with no valid key would be all -inf: let it attend everywhere, then zero it.
    mask = (allowed | ~any_valid[..., None])[:, None]
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
    return out * any_valid[:, None, :, None].to(out.dtype)


def lengths_to_mask(lengths: Tensor, n_keys: int) -> Tensor:
    """``[B]`` integer lengths -> ``[B, n_keys]`` bool mask whose first ``length`` keys are valid."""
    return torch.arange(n_keys, device=lengths.device) < lengths.to(torch.long)[:, None]


def requested_backend() -> str:
    """The ``JEPA_ATTENTION`` setting: ``auto`` (default), ``triton`` or ``sdpa``."""
    choice = os.environ.get("JEPA_ATTENTION", "auto").strip().lower() or "auto"
    if choice not in BACKENDS:
        raise ValueError(f"JEPA_ATTENTION={choice!r}; expected one of {', '.join(BACKENDS)}")
    return choice


def attention_backend(device: torch.device | str) -> str:
    """Which path :func:`masked_attention` takes for tensors on ``device``: triton or sdpa.

    Examples:
        >>> attention_backend("cpu") in ("triton", "sdpa")
        True
    """
    choice = requested_backend()
    if choice == "sdpa":
        return "sdpa"
    device = torch.device(device)
    if choice == "auto":
        if device.type != "cuda":
            return "sdpa"
        if not triton_available():
            warn_once("Triton is not installed: masked attention on CUDA uses SDPA "
                      "(pip install 'jepa-core[triton]' for the fused kernel)")
            return "sdpa"
        return "triton"
    runnable = triton_available() and (device.type == "cuda" or triton_interpreting())
    if not runnable:
        warn_once(f"JEPA_ATTENTION=triton but the kernel cannot run on {device.type} here "
                  "(needs Triton, and a CUDA device or TRITON_INTERPRET=1): using SDPA")
        return "sdpa"
    return "triton"


def _kernel_takes(q: Tensor) -> bool:
    """Whether the kernel supports ``q``'s dtype and head dim (auto mode falls back otherwise)."""
    if q.dtype in KERNEL_DTYPES and 1 <= q.shape[-1] <= KERNEL_MAX_HEAD_DIM and not (
            q.dtype == torch.float64 and q.is_cuda):
        return True
    warn_once(f"masked attention: dtype {q.dtype} / head dim {q.shape[-1]} is outside the Triton "
              f"kernel's range (fp16/bf16/fp32, Dh <= {KERNEL_MAX_HEAD_DIM}): using SDPA")
    return False


def masked_attention(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor | None = None,
                     scale: float | None = None) -> Tensor:
    """Attention of ``q`` over the valid keys of ``k``/``v``, on the fastest path available.

    The Triton path never builds the ``N x Nk`` score matrix, skips key blocks with no
    valid key, and saves only an ``O(N)`` logsumexp for the backward pass.

    Args:
        q: queries ``[B, H, N, Dh]``.
        k: keys ``[B, H, Nk, Dh]``.
        v: values ``[B, H, Nk, Dh]``.
        key_valid: ``[B, Nk]`` bool, ``True`` for keys that may be attended; or ``[B]``
            integer lengths (the first ``length`` keys are valid); or ``[B, N, Nk]`` bool,
            the keys each query may attend (local windows; always SDPA, as the kernel
            reads one key mask per sample); None for all.
        scale: softmax scale, default ``Dh ** -0.5``.

    Returns:
        ``[B, H, N, Dh]``; a query whose keys are all invalid gets zeros (and zero
        gradients).

    Examples:
        >>> q = k = v = torch.randn(2, 1, 5, 8)
        >>> valid = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
        >>> masked_attention(q, k, v, valid).shape
        torch.Size([2, 1, 5, 8])
        >>> torch.allclose(masked_attention(q, k, v, torch.tensor([3, 5])),
        ...                masked_attention(q, k, v, valid))
        True
    """
    if key_valid is not None and key_valid.dim() == 1 and key_valid.dtype != torch.bool:
        key_valid = lengths_to_mask(key_valid, k.shape[-2])
    if key_valid is not None and key_valid.dim() == 3:
        return sdpa_masked_attention(q, k, v, key_valid, scale)
    if attention_backend(q.device) == "triton" and (requested_backend() == "triton" or _kernel_takes(q)):
        from ..kernels.masked_attention import masked_attention_triton
        return masked_attention_triton(q, k, v, key_valid, scale)
    return sdpa_masked_attention(q, k, v, key_valid, scale)
