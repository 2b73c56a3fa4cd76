"""Collapse monitors: cheap statistics of target embeddings logged during training."""

from __future__ import annotations

import torch
from torch import Tensor


def embedding_std(z: Tensor) -> float:
    """Mean over dimensions of the per-dimension std of L2-normalized embeddings ``[n, D]``.

    A collapsed representation gives 0; isotropic embeddings give about ``1/sqrt(D)``.
    """
    if z.shape[0] < 2:
        return float("nan")
    z = torch.nn.functional.normalize(z.float(), dim=-1)
    return z.std(dim=0).mean().item()


def effective_rank(z: Tensor) -> float:
    """Effective rank (RankMe): exp of the entropy of the normalized singular values.

    Examples:
        >>> round(effective_rank(torch.eye(8)), 3)
        8.0
    """
    if z.shape[0] < 2:
        return float("nan")
    s = torch.linalg.svdvals(z.float())
    p = s / s.sum().clamp_min(1e-12)
    entropy = -(p * (p + 1e-12).log()).sum()
    return entropy.exp().item()
