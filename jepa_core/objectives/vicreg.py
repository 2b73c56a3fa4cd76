"""VICReg's variance and covariance terms, over the global batch.

The variance term is a hinge on each embedding dimension's standard deviation, keeping
every dimension spread out (``gamma = 1``); the covariance term is the sum of squared
off-diagonal covariances divided by ``D``, decorrelating the dimensions. Both are
statistics of the batch: under ``torchrun`` the sums behind the mean and the
(co)variances are reduced over ranks with gradient, so the terms are those of the whole
global batch, not of each rank's shard.

Paper: Bardes, Ponce & LeCun, "VICReg: Variance-Invariance-Covariance Regularization for
Self-Supervised Learning" (ICLR 2022).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.objectives._distributed import global_sum, masked_mean, masked_moments
from jepa_core.objectives.base import Regularizer


def _check_2d(z: Tensor, who: str) -> None:
    if z.dim() != 2:
        raise ValueError(f"{who} expects embeddings [n, D], got shape {tuple(z.shape)}")


def masked_rows(z: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor | int]:
    """``z`` in float32 with the rows outside ``mask`` set to 0, and the number of rows kept.

    A row mask instead of ``z[mask]`` keeps the shapes fixed, so no host synchronisation
    is needed to find how many rows there are (a boolean index needs one on CUDA).
    Zeroed rows add nothing to the sums the statistics are made of, whatever they held.

    Args:
        z: Embeddings.
        mask: Rows to use; ``None`` uses every row.

    Returns:
        ``(z, n)``: ``n`` is an int without a mask, else a 0-d tensor on ``z``'s device.

    Shapes:
        z: ``[n, D]``; mask: ``[n]`` bool.

    Examples:
        >>> z, n = masked_rows(torch.tensor([[1.0], [float("nan")]]), torch.tensor([True, False]))
        >>> z.tolist(), n.item()
        ([[1.0], [0.0]], 1)
    """
    z = z.float()
    if mask is None:
        return z, z.shape[0]
    if mask.shape != z.shape[:1] or mask.dtype != torch.bool:
        raise ValueError(f"the row mask must be bool of shape [{z.shape[0]}], got {mask.dtype} "
                         f"{tuple(mask.shape)}")
    mask = mask.to(z.device)
    return torch.where(mask[:, None], z, z.new_zeros(())), mask.sum()


def centered(z: Tensor, *, sync: bool = True, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Subtract the (global) per-dimension mean.

    Args:
        z: Embeddings.
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool); the others come out as 0. ``None``: all rows.

    Returns:
        ``(z - mean, n)`` in float32, with ``n`` the global number of rows (0-d tensor).

    Shapes:
        z: ``[n, D]``; first output ``[n, D]``.

    Examples:
        >>> zc, n = centered(torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
        >>> zc.tolist(), n.item()
        ([[-1.0, -2.0], [1.0, 2.0]], 2.0)
    """
    _check_2d(z, "centered")
    weight = None if mask is None else mask.to(z.device)[:, None]
    mean, n = masked_mean(z, weight, sync=sync)
    zc = z.float() - mean
    if mask is None:
        return zc, n
    return torch.where(weight, zc, zc.new_zeros(())), n.reshape(())


def per_dim_std(z: Tensor, eps: float = 1e-4, *, sync: bool = True, mask: Tensor | None = None) -> Tensor:
    """Per-dimension standard deviation ``sqrt(var + eps)`` (unbiased variance) of the batch.

    Args:
        z: Embeddings.
        eps: Added to the variance so the gradient stays finite at collapse.
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool); ``None``: all rows.

    Returns:
        The standard deviation of each dimension (float32).

    Shapes:
        z: ``[n, D]``; output ``[D]``.

    Examples:
        >>> per_dim_std(torch.tensor([[0.0], [2.0]]), eps=0.0)
        tensor([1.4142])
    """
    _check_2d(z, "per_dim_std")
    _, var, _ = masked_moments(z, None if mask is None else mask.to(z.device)[:, None], sync=sync)
    return torch.sqrt(var + eps)


def vicreg_variance(z: Tensor, gamma: float = 1.0, eps: float = 1e-4, *, sync: bool = True,
                    mask: Tensor | None = None) -> Tensor:
    """VICReg variance term: ``mean_d relu(gamma - sqrt(var_d + eps))``.

    Args:
        z: Embeddings (valid tokens only, flattened).
        gamma: Target standard deviation.
        eps: Added to the variance.
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool); ``None``: all rows.

    Returns:
        A scalar float32 tensor; 0 when every dimension has std >= gamma.

    Shapes:
        z: ``[n, D]``.

    Examples:
        >>> vicreg_variance(torch.zeros(8, 4), eps=0.0)
        tensor(1.)
        >>> vicreg_variance(torch.tensor([[-3.0], [3.0]]))
        tensor(0.)
    """
    _check_2d(z, "vicreg_variance")
    return F.relu(gamma - per_dim_std(z, eps, sync=sync, mask=mask)).mean()


def covariance_matrix(z: Tensor, *, sync: bool = True, mask: Tensor | None = None) -> Tensor:
    """The ``[D, D]`` sample covariance of ``z``'s rows over the (global) batch, in float32
    (also under AMP).

    Examples:
        >>> covariance_matrix(torch.tensor([[1.0, 1.0], [-1.0, -1.0]]))
        tensor([[2., 2.],
                [2., 2.]])
    """
    zc, n = centered(z, sync=sync, mask=mask)
    with torch.autocast(zc.device.type, enabled=False):  # keep the covariance in fp32 under AMP
        return global_sum(zc.T @ zc, sync) / (n - 1.0).clamp_min(1.0)


def vicreg_covariance(z: Tensor, *, sync: bool = True, mask: Tensor | None = None) -> Tensor:
    """VICReg covariance term: sum of squared off-diagonal covariances divided by ``D``.

    Args:
        z: Embeddings (valid tokens only, flattened).
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool); ``None``: all rows.

    Returns:
        A scalar float32 tensor; 0 for uncorrelated dimensions.

    Shapes:
        z: ``[n, D]``.

    Examples:
        >>> z = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
        >>> vicreg_covariance(z)  # cov = [[2, 2], [2, 2]]: (2^2 + 2^2) / 2
        tensor(4.)
    """
    _check_2d(z, "vicreg_covariance")
    cov = covariance_matrix(z, sync=sync, mask=mask)
    off = cov - torch.diag_embed(torch.diagonal(cov))
    return off.square().sum() / z.shape[1]


class VICRegVariance(Regularizer):
    """Module shell around :func:`vicreg_variance`.

    Examples:
        >>> VICRegVariance()(torch.zeros(4, 3), ).item() > 0.98
        True
    """

    def __init__(self, gamma: float = 1.0, eps: float = 1e-4) -> None:
        super().__init__()
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.gamma = gamma
        self.eps = eps

    def forward(self, z: Tensor, *, mask: Tensor | None = None, seed: int = 0, step: int = 0,
                sync: bool = True) -> Tensor:
        return vicreg_variance(z, self.gamma, self.eps, sync=sync, mask=mask)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, eps={self.eps}"


class VICRegCovariance(Regularizer):
    """Module shell around :func:`vicreg_covariance`.

    Examples:
        >>> VICRegCovariance()(torch.eye(3)).item() > 0
        True
    """

    def forward(self, z: Tensor, *, mask: Tensor | None = None, seed: int = 0, step: int = 0,
                sync: bool = True) -> Tensor:
        return vicreg_covariance(z, sync=sync, mask=mask)
