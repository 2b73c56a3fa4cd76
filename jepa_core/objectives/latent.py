"""Latent prediction losses: a distance between predicted and target embeddings per token.

The JEPA objective compares the predictor's output with the target encoder's embeddings
at the target positions. Ragged token sets are padded, so every loss takes a per-token
weight (validity as 0/1, or softer weights such as the AD-L-JEPA empty-cell weight) and
returns the weighted mean ``sum(w * loss_token) / max(sum(w), eps)``; padded tokens with
weight 0 do not change the value or the gradient.

Papers: I-JEPA (Assran et al., 2023) and V-JEPA use smooth-l1 / l1; AD-L-JEPA
(Zhu et al., 2025) uses ``1 - cos``.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_core.objectives._distributed import global_sum


def _l2(pred: Tensor, target: Tensor) -> Tensor:
    return (pred - target).square().mean(-1)


def _smooth_l1(pred: Tensor, target: Tensor) -> Tensor:
    return F.smooth_l1_loss(pred, target, reduction="none", beta=1.0).mean(-1)


def _l1(pred: Tensor, target: Tensor) -> Tensor:
    return (pred - target).abs().mean(-1)


def _cosine(pred: Tensor, target: Tensor) -> Tensor:
    return 1.0 - F.cosine_similarity(pred, target, dim=-1, eps=1e-8)


#: Per-token distances ``[..., D] x [..., D] -> [...]``, by name.
PER_TOKEN_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "l2": _l2,
    "smooth_l1": _smooth_l1,
    "l1": _l1,
    "cosine": _cosine,
}

#: The names accepted by :func:`latent_loss` and ``ObjectiveConfig.loss``.
LATENT_LOSSES: tuple[str, ...] = tuple(PER_TOKEN_LOSSES)


def _check_kind(kind: str) -> None:
    if kind not in PER_TOKEN_LOSSES:
        raise ValueError(f"unknown latent loss {kind!r}; expected one of {list(LATENT_LOSSES)}")


def per_token_loss(pred: Tensor, target: Tensor, kind: str = "smooth_l1") -> Tensor:
    """Distance between each predicted and target embedding, one value per token.

    ``l2`` is the squared error and ``l1`` the absolute error, both averaged over the
    channels; ``smooth_l1`` is Huber with ``beta=1`` averaged over channels; ``cosine``
    is ``1 - cos(pred, target)``.

    Args:
        pred: Predicted embeddings.
        target: Target embeddings, same shape as ``pred``.
        kind: One of ``"l2"``, ``"smooth_l1"``, ``"l1"``, ``"cosine"``.

    Returns:
        The per-token loss.

    Shapes:
        pred, target: ``[..., D]``; output: ``[...]``.

    Examples:
        >>> p = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
        >>> t = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
        >>> per_token_loss(p, t, "l2")
        tensor([0.5000, 0.5000])
        >>> per_token_loss(p, t, "cosine")
        tensor([1., 0.])
    """
    _check_kind(kind)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    if pred.dim() < 1 or pred.shape[-1] == 0:
        raise ValueError(f"expected embeddings [..., D] with D > 0, got {tuple(pred.shape)}")
    return PER_TOKEN_LOSSES[kind](pred, target)


def latent_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None,
                kind: str = "smooth_l1", *, eps: float = 1e-8, sync: bool = True) -> Tensor:
    """Weighted mean of the per-token latent distance over the (global) batch.

    Under ``torchrun`` with ``sync=True`` the numerator and the total weight are summed
    over ranks, so every rank returns the loss of the whole global batch even when ranks
    hold different numbers of valid tokens (see ``jepa_core.objectives._distributed``
    for the gradient convention).

    Args:
        pred: Predicted embeddings.
        target: Target embeddings (already detached / normalized by the caller).
        weight: Per-token weights, non-negative; ``None`` weighs every token 1.
        kind: One of ``"l2"``, ``"smooth_l1"``, ``"l1"``, ``"cosine"``.
        eps: Lower bound of the total weight (an all-zero weight gives 0, not NaN).
        sync: Reduce over all ranks when a process group is running.

    Returns:
        A scalar float32 tensor.

    Shapes:
        pred, target: ``[..., D]``; weight: ``[...]`` (``pred.shape[:-1]``).

    Examples:
        >>> p = torch.tensor([[1.0, 1.0], [5.0, 5.0]])
        >>> t = torch.zeros(2, 2)
        >>> latent_loss(p, t, torch.tensor([1.0, 0.0]), kind="l1")
        tensor(1.)
    """
    per = per_token_loss(pred, target, kind).float()
    if weight is None:
        weight = torch.ones_like(per)
    elif weight.shape != per.shape:
        raise ValueError(f"weight must have shape {tuple(per.shape)} (pred without its last "
                         f"dim), got {tuple(weight.shape)}")
    w = weight.to(device=per.device, dtype=torch.float32)
    sums = global_sum(torch.stack([(w * per).sum(), w.sum()]), sync)
    return sums[0] / sums[1].clamp_min(eps)


class LatentLoss(nn.Module):
    """Module shell around :func:`latent_loss` holding the distance kind.

    Args:
        kind: One of ``"l2"``, ``"smooth_l1"``, ``"l1"``, ``"cosine"``.
        eps: Lower bound of the total weight.

    Examples:
        >>> loss = LatentLoss("l2")
        >>> loss(torch.ones(3, 4), torch.zeros(3, 4))
        tensor(1.)
    """

    def __init__(self, kind: str = "smooth_l1", eps: float = 1e-8) -> None:
        super().__init__()
        _check_kind(kind)
        self.kind = kind
        self.eps = eps

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        return latent_loss(pred, target, weight, self.kind, eps=self.eps)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
