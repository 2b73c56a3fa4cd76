"""AD-L-JEPA's variance hinge: keep each embedding dimension's std above ``gamma``.

AD-L-JEPA regularizes BEV embeddings with ``mean_d relu(gamma - sqrt(var_d + 1e-4))``
(unbiased variance). Here it is the hinge over the whole (global) batch's valid tokens,
the same maths as VICReg's variance term with a configurable ``gamma`` (the paper
computes it per scene and averages over the scenes of the batch).

Paper: Zhu et al., "AD-L-JEPA: Self-Supervised Spatial World Models with Joint Embedding
Predictive Architecture for Autonomous Driving with LiDAR Data" (2025).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.objectives.base import Regularizer
from jepa_core.objectives.vicreg import per_dim_std


def variance_hinge(z: Tensor, gamma: float = 1.0, eps: float = 1e-4, *,
                   sync: bool = True, mask: Tensor | None = None) -> Tensor:
    """Hinge on the per-dimension standard deviation over the (global) batch.

    Args:
        z: Embeddings (valid tokens only, flattened).
        gamma: Target standard deviation (``ObjectiveConfig.hinge_gamma``; AD-L-JEPA
            uses 1/16 on its BEV features).
        eps: Added to the variance.
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool); ``None``: all rows.

    Returns:
        A scalar float32 tensor.

    Shapes:
        z: ``[n, D]``.

    Examples:
        >>> z = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
        >>> variance_hinge(z, gamma=1.0, eps=0.0)  # stds (1.414, 0): (0 + 1) / 2
        tensor(0.5000)
    """
    if z.dim() != 2:
        raise ValueError(f"variance_hinge expects embeddings [n, D], got shape {tuple(z.shape)}")
    return F.relu(gamma - per_dim_std(z, eps, sync=sync, mask=mask)).mean()


class VarianceHinge(Regularizer):
    """Module shell around :func:`variance_hinge` holding ``gamma`` and ``eps``.

    Examples:
        >>> VarianceHinge(gamma=0.5)(torch.zeros(6, 2)).item() > 0.49
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
        return variance_hinge(z, self.gamma, self.eps, sync=sync, mask=mask)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, eps={self.eps}"
