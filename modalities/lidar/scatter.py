"""Per-group reductions along dim 0 (points to pillars, points to tokens), in plain torch.

The same semantics as torch-geometric's ``utils.scatter`` for a 1-D index along dim 0
(empty groups give 0; ``mean`` divides the sum by the count), written on
``Tensor.scatter_add_`` / ``scatter_reduce_`` so the lidar plugin needs no graph library.
"""

from __future__ import annotations

from torch import Tensor

REDUCTIONS = ("sum", "mean", "min", "max")


def scatter(src: Tensor, index: Tensor, dim_size: int, reduce: str = "sum") -> Tensor:
    """Reduce the rows of ``src`` that share an ``index`` value.

    Args:
        src: ``[P, ...]`` values (rows are points).
        index: ``[P]`` int64 group of each row, in ``[0, dim_size)``.
        dim_size: number of groups.
        reduce: ``sum``, ``mean``, ``min`` or ``max``; groups without a row get 0.

    Returns:
        ``[dim_size, ...]``.

    Examples:
        >>> import torch
        >>> x = torch.tensor([1.0, 3.0, 5.0])
        >>> scatter(x, torch.tensor([0, 0, 2]), 3, "mean").tolist()
        [2.0, 0.0, 5.0]
        >>> scatter(x, torch.tensor([0, 0, 2]), 3, "max").tolist()
        [3.0, 0.0, 5.0]
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
    size = (dim_size,) + tuple(src.shape[1:])
    wide = index.view((-1,) + (1,) * (src.dim() - 1)).expand_as(src)
    if reduce in ("min", "max"):
        return src.new_zeros(size).scatter_reduce_(0, wide, src, reduce=f"a{reduce}", include_self=False)
    total = src.new_zeros(size).scatter_add_(0, wide, src)
    if reduce == "sum":
        return total
    count = src.new_zeros(dim_size).scatter_add_(0, index, src.new_ones(src.shape[0])).clamp(min=1)
    return total / count.view((-1,) + (1,) * (src.dim() - 1))
