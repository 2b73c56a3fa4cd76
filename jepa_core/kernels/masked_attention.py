"""Fused masked attention as ``torch.ops.jepa_triton.*`` custom ops with autograd.

``masked_attention_fwd`` and ``masked_attention_bwd`` are registered with
:func:`torch.library.triton_op`, so ``torch.compile`` traces through them (their fake
implementation is the function body itself), and ``register_autograd`` ties them into
one differentiable op. :func:`masked_attention_triton` is the entry point; it validates
its inputs with clear errors before anything reaches a kernel.

Only the output and an ``O(N)`` logsumexp per row are saved for the backward pass.
"""

# No ``from __future__ import annotations``: triton_op reads real type hints for the schema.
import math
from typing import Optional

import torch
import triton
import triton.language as tl
from torch import Tensor
from torch.library import triton_op, wrap_triton

from .attention_bwd import (masked_attention_bwd_dkdv_kernel, masked_attention_bwd_dq_kernel,
                            masked_attention_bwd_preprocess_kernel)
from .attention_configs import interpreting
from .attention_fwd import masked_attention_fwd_kernel
from .interpreter_compat import patch as _patch_interpreter

MAX_HEAD_DIM = 128
SUPPORTED_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_LOG2E = math.log2(math.e)
_PREPROCESS_BLOCK_M = 16 if interpreting() else 64
if interpreting():
    _patch_interpreter()


def _settings(q: Tensor) -> dict:
    """Compile-time settings shared by the kernels for ``q``'s dtype and head dim."""
    head_dim = q.shape[-1]
    if q.dtype == torch.float64:
        acc, prec = torch.float64, "ieee"
    elif q.dtype == torch.float32:
        acc, prec = torch.float32, ("tf32" if torch.backends.cuda.matmul.allow_tf32 else "ieee")
    else:
        acc, prec = torch.float32, "tf32"
    return {
        "HEAD_DIM": head_dim,
        "BLOCK_D": max(16, triton.next_power_of_2(head_dim)),
        "DOT_PREC": prec,
        "ACC_DTYPE": tl.float64 if acc == torch.float64 else tl.float32,
    }, acc


def _validity(key_valid: Optional[Tensor], q: Tensor) -> tuple[Tensor, Tensor, int]:
    """``key_valid`` as uint8 ``[B, Nk]``, one-past-last-valid index ``[B]`` int32, row stride."""
    if key_valid is None:
        dummy = torch.zeros(1, dtype=torch.int32, device=q.device)
        return dummy, dummy, 0
    valid = key_valid.contiguous().to(torch.uint8)
    n_k = valid.shape[1]
    positions = torch.arange(1, n_k + 1, device=valid.device, dtype=torch.int32)
    kv_end = (valid.to(torch.int32) * positions).amax(dim=1).to(torch.int32)
    return valid, kv_end, valid.stride(0)


@triton_op("jepa_triton::masked_attention_fwd", mutates_args=())
def masked_attention_fwd(q: Tensor, k: Tensor, v: Tensor, key_valid: Optional[Tensor],
                         scale: float) -> tuple[Tensor, Tensor]:
    """Forward pass: ``(out [B, H, Nq, Dh], lse [B, H, Nq])``; lse in log2 units."""
    b, h, n_q, _ = q.shape
    n_k = k.shape[2]
    settings, acc = _settings(q)
    valid, kv_end, valid_stride = _validity(key_valid, q)
    out = torch.empty_like(q)
    lse = torch.empty((b, h, n_q), dtype=acc, device=q.device)

    def grid(meta):
        return (triton.cdiv(n_q, meta["BLOCK_M"]), b * h)

    wrap_triton(masked_attention_fwd_kernel)[grid](
        q, k, v, valid, kv_end, out, lse,
        *q.stride(), *k.stride(), *v.stride(), *out.stride(),
        valid_stride, h, n_q, n_k, scale * _LOG2E,
        HAS_MASK=key_valid is not None, SKIP_EMPTY=key_valid is not None, **settings)
    return out, lse


@triton_op("jepa_triton::masked_attention_bwd", mutates_args=())
def masked_attention_bwd(grad_out: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, lse: Tensor,
                         key_valid: Optional[Tensor], scale: float) -> tuple[Tensor, Tensor, Tensor]:
    """Backward pass: ``(dq, dk, dv)`` from the saved output and logsumexp."""
    b, h, n_q, _ = q.shape
    n_k = k.shape[2]
    settings, acc = _settings(q)
    valid, kv_end, valid_stride = _validity(key_valid, q)
    grad_out = grad_out.contiguous()
    delta = torch.empty((b, h, n_q), dtype=acc, device=q.device)
    dq, dk, dv = torch.empty_like(q), torch.empty_like(k), torch.empty_like(v)
    has_mask = key_valid is not None

    wrap_triton(masked_attention_bwd_preprocess_kernel)[(triton.cdiv(n_q, _PREPROCESS_BLOCK_M), b * h)](
        out, grad_out, delta, *out.stride(), *grad_out.stride(), h, n_q,
        HEAD_DIM=settings["HEAD_DIM"], BLOCK_D=settings["BLOCK_D"], ACC_DTYPE=settings["ACC_DTYPE"],
        BLOCK_M=_PREPROCESS_BLOCK_M)

    def grid_kv(meta):
        return (triton.cdiv(n_k, meta["BLOCK_N"]), b * h)

    wrap_triton(masked_attention_bwd_dkdv_kernel)[grid_kv](
        q, k, v, grad_out, lse, delta, valid, dk, dv,
        *q.stride(), *k.stride(), *v.stride(), *grad_out.stride(), *dk.stride(), *dv.stride(),
        valid_stride, h, n_q, n_k, scale, scale * _LOG2E, HAS_MASK=has_mask, **settings)

    def grid_q(meta):
        return (triton.cdiv(n_q, meta["BLOCK_M"]), b * h)

    wrap_triton(masked_attention_bwd_dq_kernel)[grid_q](
        q, k, v, grad_out, lse, delta, valid, kv_end, dq,
        *q.stride(), *k.stride(), *v.stride(), *grad_out.stride(), *dq.stride(),
        valid_stride, h, n_q, n_k, scale, scale * _LOG2E, HAS_MASK=has_mask, SKIP_EMPTY=has_mask,
        **settings)
    return dq, dk, dv


def _setup_context(ctx, inputs, output) -> None:
    q, k, v, key_valid, scale = inputs
    out, lse = output
    ctx.save_for_backward(q, k, v, out, lse, key_valid)
    ctx.scale = scale


def _backward(ctx, grad_out: Tensor, grad_lse: Optional[Tensor]):
    q, k, v, out, lse, key_valid = ctx.saved_tensors
    dq, dk, dv = masked_attention_bwd(grad_out, q, k, v, out, lse, key_valid, ctx.scale)
    return dq, dk, dv, None, None


masked_attention_fwd.register_autograd(_backward, setup_context=_setup_context)


def validate(q: Tensor, k: Tensor, v: Tensor, key_valid: Optional[Tensor]) -> None:
    """Raise ``ValueError``/``TypeError`` naming what is wrong with the attention inputs."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a Tensor, got {type(t).__name__}")
        if t.dim() != 4:
            raise ValueError(f"{name} must be [B, H, N, Dh], got shape {tuple(t.shape)}")
        if t.dtype not in SUPPORTED_DTYPES:
            raise TypeError(f"{name} has dtype {t.dtype}; the Triton kernel takes {SUPPORTED_DTYPES}")
    if q.dtype == torch.float64 and q.device.type == "cuda":
        # Triton 3.6 aborts the process compiling an fp64 tl.dot for sm_90 ("fp64 don't
        # support largeK MMA"); fp64 runs only under the interpreter (CPU gradcheck).
        raise TypeError("float64 is not supported by the Triton kernel on CUDA; use fp32/fp16/bf16 or SDPA")
    if not (q.dtype == k.dtype == v.dtype):
        raise TypeError(f"q, k, v must share a dtype, got {q.dtype}, {k.dtype}, {v.dtype}")
    if not (q.device == k.device == v.device):
        raise ValueError(f"q, k, v must be on one device, got {q.device}, {k.device}, {v.device}")
    if k.shape != v.shape:
        raise ValueError(f"k and v must have the same shape, got {tuple(k.shape)} and {tuple(v.shape)}")
    if q.shape[:2] != k.shape[:2] or q.shape[3] != k.shape[3]:
        raise ValueError(f"q {tuple(q.shape)} and k {tuple(k.shape)} disagree on B, H or Dh")
    if not 1 <= q.shape[3] <= MAX_HEAD_DIM:
        raise ValueError(f"head dim {q.shape[3]} is outside the kernel's range 1..{MAX_HEAD_DIM}")
    if q.shape[2] == 0 or k.shape[2] == 0:
        raise ValueError(f"empty sequence: q has {q.shape[2]} tokens, k has {k.shape[2]}")
    if key_valid is not None:
        if not isinstance(key_valid, Tensor) or key_valid.dtype != torch.bool:
            raise TypeError("key_valid must be a bool Tensor [B, Nk]")
        if tuple(key_valid.shape) != (k.shape[0], k.shape[2]):
            raise ValueError(f"key_valid must be [B, Nk] = {(k.shape[0], k.shape[2])}, "
                             f"got {tuple(key_valid.shape)}")
        if key_valid.device != q.device:
            raise ValueError(f"key_valid is on {key_valid.device}, q on {q.device}")


def masked_attention_triton(q: Tensor, k: Tensor, v: Tensor, key_valid: Optional[Tensor] = None,
                            scale: Optional[float] = None) -> Tensor:
    """Fused attention of ``q`` over the valid keys of ``k``/``v`` (Triton, differentiable).

    Args:
        q: queries ``[B, H, Nq, Dh]``, fp16/bf16/fp32 (fp64 under the interpreter only),
            ``1 <= Dh <= 128``.
        k: keys ``[B, H, Nk, Dh]``.
        v: values ``[B, H, Nk, Dh]``.
        key_valid: ``[B, Nk]`` bool, or None when every key is valid.
        scale: softmax scale, default ``Dh ** -0.5``.

    Returns:
        ``[B, H, Nq, Dh]`` in ``q``'s dtype; rows with no valid key are zeros (and get
        zero gradients).

    Shapes:
        Any ``Nq``/``Nk``; strided (non-contiguous) inputs are read in place.
    """
    validate(q, k, v, key_valid)
    scale = q.shape[-1] ** -0.5 if scale is None else float(scale)
    out, _ = masked_attention_fwd(q, k, v, key_valid, scale)
    return out
