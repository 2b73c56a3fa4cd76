"""Gather tokens by per-sample indices: ``tokens[B, N, D]``, ``idx[B, K]`` -> ``[B, K, D]``.

Dispatches to ``torch.ops.jepa.gather_tokens`` (backward: ``gather_tokens_backward``, a
scatter-add) when the extension has a kernel for the device, else to ``torch.gather``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .capabilities import compiled_cpu, compiled_cuda, has_op, warn_once

__all__ = ["gather_tokens", "gather_tokens_reference"]


def gather_tokens_reference(tokens: Tensor, idx: Tensor) -> Tensor:
    """Pure-PyTorch reference of :func:`gather_tokens`."""
    return torch.gather(tokens, 1, idx.long().unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))


def _compiled(device: torch.device) -> bool:
    if device.type == "cuda":
        return compiled_cuda("gather_tokens")
    return device.type == "cpu" and compiled_cpu("gather_tokens")


def gather_tokens(tokens: Tensor, idx: Tensor) -> Tensor:
    """Select ``idx`` tokens of each sample, differentiable w.r.t. ``tokens``.

    Args:
        tokens: ``[B, N, D]`` floating tensor.
        idx: ``[B, K]`` integer indices in ``[0, N)`` (padding entries may be any valid index).

    Returns:
        ``[B, K, D]``: ``out[b, k] = tokens[b, idx[b, k]]``.

    Shapes:
        tokens ``[B, N, D]``, idx ``[B, K]`` int -> ``[B, K, D]``.

    Examples:
        >>> t = torch.arange(12.).view(1, 4, 3)
        >>> gather_tokens(t, torch.tensor([[2, 0]]))[0, :, 0]
        tensor([6., 0.])
    """
    if tokens.dim() != 3 or idx.dim() != 2 or idx.shape[0] != tokens.shape[0]:
        raise ValueError(f"gather_tokens expects tokens [B, N, D] and idx [B, K], got "
                         f"{tuple(tokens.shape)} and {tuple(idx.shape)}")
    if _compiled(tokens.device) and tokens.dtype in (torch.float32, torch.float64, torch.float16,
                                                      torch.bfloat16):
        return torch.ops.jepa.gather_tokens(tokens, idx.long())
    if tokens.device.type in ("cpu", "cuda"):
        warn_once(f"torch.ops.jepa.gather_tokens is not compiled for {tokens.device.type}; "
                  "using torch.gather")
    return gather_tokens_reference(tokens, idx)


def _register() -> None:
    """Fake kernels (``torch.compile``) and autograd formulas of the gather ops."""
    if not (has_op("gather_tokens") and has_op("gather_tokens_backward")):
        return

    @torch.library.register_fake("jepa::gather_tokens")
    def _gather_fake(tokens, idx):  # the checks of csrc/gather.h
        torch._check(tokens.dim() == 3, lambda: f"jepa::gather_tokens: tokens must be [B, N, D], "
                                                f"got {tuple(tokens.shape)}")
        torch._check(idx.dim() == 2, lambda: f"jepa::gather_tokens: idx must be [B, K], got {tuple(idx.shape)}")
        torch._check(idx.shape[0] == tokens.shape[0],
                     lambda: f"jepa::gather_tokens: idx must be [B, K] with B = {tokens.shape[0]}, "
                             f"got {tuple(idx.shape)}")
        torch._check(idx.dtype == torch.int64, lambda: f"jepa::gather_tokens: idx must be int64, got {idx.dtype}")
        return tokens.new_empty((tokens.shape[0], idx.shape[1], tokens.shape[2]))

    @torch.library.register_fake("jepa::gather_tokens_backward")
    def _gather_backward_fake(grad, idx, num_tokens):
        def message() -> str:
            return (f"jepa::gather_tokens_backward: grad must be [B, K, D] for idx [B, K], got "
                    f"{tuple(grad.shape)} and {tuple(idx.shape)}")

        torch._check(grad.dim() == 3 and idx.dim() == 2, message)
        torch._check(grad.shape[0] == idx.shape[0], message)
        torch._check(grad.shape[1] == idx.shape[1], message)
        torch._check(idx.dtype == torch.int64, lambda: "jepa::gather_tokens_backward: idx must be int64")
        torch._check(num_tokens >= 0, lambda: "jepa::gather_tokens_backward: num_tokens must be >= 0")
        return grad.new_empty((grad.shape[0], num_tokens, grad.shape[2]))

    def _setup(ctx, inputs, output):
        tokens, idx = inputs
        ctx.save_for_backward(idx)
        ctx.num_tokens = tokens.shape[1]

    def _backward(ctx, grad):
        (idx,) = ctx.saved_tensors
        return torch.ops.jepa.gather_tokens_backward(grad.contiguous(), idx, ctx.num_tokens), None

    def _setup_bw(ctx, inputs, output):
        ctx.save_for_backward(inputs[1])

    def _backward_bw(ctx, grad):
        (idx,) = ctx.saved_tensors
        return torch.ops.jepa.gather_tokens(grad.contiguous(), idx), None, None

    torch.library.register_autograd("jepa::gather_tokens", _backward, setup_context=_setup)
    torch.library.register_autograd("jepa::gather_tokens_backward", _backward_bw, setup_context=_setup_bw)


_register()
