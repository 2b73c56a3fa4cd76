"""AD-L-JEPA's variance hinge: keep each embedding dimension's std above ``gamma``.

AD-L-JEPA regularizes BEV embeddings with ``mean_d relu(gamma - sqrt(var_d + 1e-4))``
(unbiased variance), computed *per scene* over that scene's cells and then averaged over
the scenes of the batch. Without ``groups`` this is the hinge over the whole (global)
batch, the same maths as VICReg's variance term with a configurable ``gamma``; with
``groups`` (the sample index of each row) it is the per-sample form of the paper.

Paper: Zhu et al., "AD-L-JEPA: Self-Supervised Spatial World Models with Joint Embedding
Predictive Architecture for Autonomous Driving with LiDAR Data" (2025).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_core.objectives._distributed import global_sum
from jepa_core.objectives.vicreg import masked_rows, per_dim_std


def variance_hinge(z: Tensor, gamma: float = 1.0, eps: float = 1e-4, *,
                   groups: Tensor | None = None, sync: bool = True,
                   mask: Tensor | None = None) -> Tensor:
    """Hinge on the per-dimension standard deviation, over the batch or per group.

    Args:
        z: Embeddings (valid tokens only, flattened).
        gamma: Target standard deviation (``ObjectiveConfig.hinge_gamma``; AD-L-JEPA
            uses 1/16 on its BEV features).
        eps: Added to the variance.
        groups: Optional group id of each row (e.g. its sample index in the batch). When
            given, the hinge is computed within each group having at least 2 rows and
            averaged over those groups (over all ranks' groups under ``torchrun``).
        sync: Use the global batch when a process group is running.
        mask: Rows to use (``[n]`` bool); ``None``: all rows.

    Returns:
        A scalar float32 tensor.

    Shapes:
        z: ``[n, D]``; groups: ``[n]`` integer ids in ``[0, G)``.

    Examples:
        >>> z = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
        >>> variance_hinge(z, gamma=1.0, eps=0.0)  # stds (1.414, 0): (0 + 1) / 2
        tensor(0.5000)
        >>> z = torch.tensor([[0.0], [2.0], [5.0], [5.0]])
        >>> variance_hinge(z, gamma=1.0, eps=0.0, groups=torch.tensor([0, 0, 1, 1]))
        tensor(0.5000)
    """
    if z.dim() != 2:
        raise ValueError(f"variance_hinge expects embeddings [n, D], got shape {tuple(z.shape)}")
    if groups is None:
        return F.relu(gamma - per_dim_std(z, eps, sync=sync, mask=mask)).mean()
    if groups.shape != z.shape[:1]:
        raise ValueError(f"groups must have shape [{z.shape[0]}] (one id per row), "
                         f"got {tuple(groups.shape)}")
    if groups.is_floating_point() or groups.is_complex():
        raise ValueError(f"groups must hold integer ids, got dtype {groups.dtype}")
    z, _ = masked_rows(z, mask)
    ids = groups.to(device=z.device, dtype=torch.long)
    num_groups = int(ids.max().item()) + 1 if ids.numel() else 0
    if ids.numel() and int(ids.min().item()) < 0:
        raise ValueError("groups ids must be >= 0")
    ones = torch.ones_like(ids, dtype=torch.float32)
    if mask is not None:
        ones = mask.to(device=z.device, dtype=torch.float32)
    counts = torch.zeros(num_groups, device=z.device).index_add_(0, ids, ones)
    sums = torch.zeros(num_groups, z.shape[1], device=z.device).index_add(0, ids, z)
    mean = sums / counts.clamp_min(1.0)[:, None]
    sq = torch.zeros_like(sums).index_add(0, ids, (z - mean[ids]).square() * ones[:, None])
    std = torch.sqrt(sq / (counts - 1.0).clamp_min(1.0)[:, None] + eps)
    per_group = F.relu(gamma - std).mean(1)
    usable = (counts >= 2).float()
    totals = global_sum(torch.stack([(per_group * usable).sum(), usable.sum()]), sync)
    return totals[0] / totals[1].clamp_min(1.0)


class VarianceHinge(nn.Module):
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

    def forward(self, z: Tensor, groups: Tensor | None = None) -> Tensor:
        return variance_hinge(z, self.gamma, self.eps, groups=groups)

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, eps={self.eps}"
