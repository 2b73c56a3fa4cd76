"""Global-batch reductions for the objectives: sums across ranks that carry gradient.

Every statistic an objective needs over the batch (means, empirical characteristic
functions, covariances, weighted token means) is written as *local sums divided by a
global count*. Under ``torchrun`` with more than one process the local sums are summed
over ranks here, so each rank computes the loss of the whole global batch; with one
process (or ``sync=False``) these helpers are the identity.

Gradient convention: every rank computes the same global loss ``L``. The backward of
:func:`all_reduce_sum` sums the incoming gradients of all ranks, so the gradient on rank
``r`` w.r.t. its own inputs is ``world_size * dL/dx_r``. DDP and FSDP average gradients
over ranks, which turns that back into exactly ``dL/dtheta`` of the single-process run
on the concatenated batch.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor


def distributed_enabled(sync: bool = True) -> bool:
    """True when ``sync`` is set and a process group with more than one rank is running."""
    return bool(sync) and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks; the backward sums the gradients over ranks too."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # type: ignore[override]
        out = x.detach().clone(memory_format=torch.contiguous_format)
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        grad = grad.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


def global_sum(x: Tensor, sync: bool = True) -> Tensor:
    """Elementwise sum of ``x`` over all ranks, with gradient (identity on one process).

    Args:
        x: A tensor of the same shape on every rank.
        sync: Set to ``False`` to keep the reduction local even under ``torchrun``.

    Returns:
        The summed tensor, identical on every rank.
    """
    if not distributed_enabled(sync):
        return x
    return _AllReduceSum.apply(x)


def global_count(n: int | Tensor, device: torch.device, sync: bool = True) -> Tensor:
    """Total number of samples (or total weight) over all ranks, without gradient.

    Args:
        n: This rank's count (an int or a 0-d tensor).
        device: Where the result lives (the data's device: CPU for gloo, CUDA for NCCL).
        sync: Set to ``False`` to keep the count local.

    Returns:
        A float32 0-d tensor.
    """
    c = n.detach().to(device=device, dtype=torch.float32) if isinstance(n, Tensor) else \
        torch.tensor(float(n), device=device, dtype=torch.float32)
    if distributed_enabled(sync):
        c = c.clone()
        dist.all_reduce(c, op=dist.ReduceOp.SUM)
    return c


def masked_mean(z: Tensor, weight: Tensor | None = None, *, sync: bool = True,
                dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """Weighted mean over dim 0 of the global batch, and the total weight.

    Args:
        z: Values; rows (dim 0) are samples or tokens.
        weight: Non-negative weights broadcastable to ``z`` (validity as 0/1, a row mask
            as ``mask[:, None]``); ``None`` weighs every row 1. Entries of weight 0 are
            left out whatever they hold (padding, even NaN).
        sync: Use the global batch when a process group is running.
        dtype: Precision of the sums (float64 where a shared offset dwarfs the spread).

    Returns:
        ``(mean, n)``: ``mean`` is ``z.shape[1:]``; ``n`` the total weight (0-d without
        ``weight``, else ``weight.sum(0)``'s shape).

    Shapes:
        z: ``[n, ...]``; weight: ``[n, ...]`` broadcastable to ``z``.

    Examples:
        >>> masked_mean(torch.tensor([[1.0], [3.0], [float("nan")]]),
        ...             torch.tensor([True, True, False])[:, None])
        (tensor([2.]), tensor([2.]))
    """
    z = z.to(dtype)
    if weight is None:
        n = global_count(z.shape[0], z.device, sync).to(dtype)
        total = z.sum(0)
    else:
        w = weight.to(device=z.device, dtype=dtype)
        n = global_sum(w.sum(0), sync)
        total = (_kept(z, w) * w).sum(0)
    return global_sum(total, sync) / n.clamp_min(1.0), n


def _kept(x: Tensor, w: Tensor) -> Tensor:
    """``x`` with the entries of weight 0 set to 0 (so NaN there reaches neither the value
    nor the gradient)."""
    return torch.where(w > 0, x, x.new_zeros(()))


def masked_moments(z: Tensor, weight: Tensor | None = None, *, sync: bool = True,
                   dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor, Tensor]:
    """Weighted mean and unbiased variance over dim 0 of the global batch (two passes).

    The one helper behind VICReg's per-dimension std, the variance hinge and the
    per-position target standardization.

    Args:
        z, weight, sync, dtype: as in :func:`masked_mean`.

    Returns:
        ``(mean, var, n)``, with ``var = sum(w * (z - mean)^2) / max(n - 1, 1)``.

    Examples:
        >>> mean, var, n = masked_moments(torch.tensor([[0.0], [2.0], [7.0]]),
        ...                               torch.tensor([[1.0], [1.0], [0.0]]))
        >>> mean.tolist(), var.tolist(), n.tolist()
        ([1.0], [2.0], [2.0])
    """
    mean, n = masked_mean(z, weight, sync=sync, dtype=dtype)
    z = z.to(dtype)
    if weight is None:
        dev = (z - mean).square()
    else:
        w = weight.to(device=z.device, dtype=dtype)
        dev = (_kept(z, w) - mean).square() * w
    return mean, global_sum(dev.sum(0), sync) / (n - 1.0).clamp_min(1.0), n
