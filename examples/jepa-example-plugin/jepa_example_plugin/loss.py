"""``example-cos``: a latent loss registered by a third-party package."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.objectives import LatentTerm


class UnitSphereL2(LatentTerm):
    """``2 - 2 cos(pred, target)``: the squared distance of the two unit vectors (BYOL).

    Examples:
        >>> p, t = torch.tensor([[1.0, 0.0], [0.0, 3.0]]), torch.tensor([[0.0, 1.0], [0.0, 1.0]])
        >>> UnitSphereL2().distance(p, t)
        tensor([2., 0.])
    """

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        return 2.0 - 2.0 * F.cosine_similarity(pred, target, dim=-1, eps=1e-8)
