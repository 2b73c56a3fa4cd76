"""A decorrelation term that stops at a margin: penalize only correlations above ``tau``.

VICReg's covariance term pushes every off-diagonal covariance to 0. Together with a
variance floor on every dimension (VICReg's variance term, AD-L-JEPA's hinge) its minimum
is a whitened embedding: all dimensions equally spread and uncorrelated, full rank. That
keeps the embedding from collapsing onto a few directions, but it keeps pushing long after
collapse is out of reach, and being measured in covariances (not correlations) it pushes
harder as the variance floor spreads the dimensions out.

This term measures the Pearson correlation of each pair of dimensions over the (global)
batch and penalizes only the part of ``|corr|`` above a margin ``tau``:
``sum_{i != j} relu(|corr_ij| - tau)^2 / D``. It is 0 for any embedding whose dimensions
are at most ``tau``-correlated, whatever their scale, so it prevents dimensions from
becoming copies of each other (rank collapse) without driving them to be independent.
``tau = 0`` is the squared-correlation (scale-free) form of VICReg's covariance term.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.config import ComponentConfig
from jepa_core.objectives.base import Regularizer
from jepa_core.objectives.vicreg import _check_2d, covariance_matrix


def correlation_margin(z: Tensor, tau: float = 0.5, eps: float = 1e-4, *, sync: bool = True,
                       mask: Tensor | None = None) -> Tensor:
    """``sum_{i != j} relu(|corr_ij| - tau)^2 / D`` over the (global) batch.

    Args:
        z: Embeddings (valid tokens only, flattened).
        tau: Correlations up to this magnitude cost nothing (``0 <= tau < 1``).
        eps: Added to each dimension's variance before dividing by the std, so a constant
            dimension gives correlations of 0 rather than NaN.
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool); ``None``: all rows.

    Returns:
        A scalar float32 tensor; 0 when no two dimensions are more than ``tau`` correlated.

    Shapes:
        z: ``[n, D]``.

    Examples:
        >>> z = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])  # corr 1: 2 * (1 - 0.5)^2 / 2
        >>> round(correlation_margin(z, tau=0.5, eps=0.0).item(), 4)
        0.25
        >>> round(correlation_margin(10 * z, tau=0.5, eps=0.0).item(), 4)  # scale-free
        0.25
    """
    _check_2d(z, "correlation_margin")
    if not 0.0 <= tau < 1.0:
        raise ValueError(f"tau must be in [0, 1), got {tau!r}")
    cov = covariance_matrix(z, sync=sync, mask=mask)
    std = torch.sqrt(torch.diagonal(cov) + eps)
    corr = cov / (std[:, None] * std[None, :])
    off = corr - torch.diag_embed(torch.diagonal(corr))
    return F.relu(off.abs() - tau).square().sum() / z.shape[1]


@dataclass
class CorrelationMarginConfig(ComponentConfig):
    """``objective.terms.correlation_margin``: the free margin ``tau`` and the ``eps``
    added to the variances."""

    tau: float = 0.5
    eps: float = 1e-4


class CorrelationMargin(Regularizer):
    """Module shell around :func:`correlation_margin`; switched on by
    ``objective.regularizers.correlation_margin: WEIGHT``.

    Args:
        tau: Correlations up to this magnitude cost nothing.
        eps: Added to the variances.

    Examples:
        >>> CorrelationMargin(tau=0.9)(torch.randn(256, 4, generator=torch.Generator().manual_seed(0))).item()
        0.0
    """

    config_class = CorrelationMarginConfig

    def __init__(self, tau: float = 0.5, eps: float = 1e-4) -> None:
        super().__init__()
        if not 0.0 <= tau < 1.0:
            raise ValueError(f"objective.terms.correlation_margin.tau must be in [0, 1), got {tau!r}")
        if eps < 0:
            raise ValueError(f"objective.terms.correlation_margin.eps must be >= 0, got {eps!r}")
        self.tau, self.eps = float(tau), float(eps)

    def forward(self, z: Tensor, *, mask: Tensor | None = None, seed: int = 0, step: int = 0,
                sync: bool = True) -> Tensor:
        return correlation_margin(z, self.tau, self.eps, sync=sync, mask=mask)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, eps={self.eps}"
