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
