"""Latent prediction losses: a distance between predicted and target embeddings per token.

The JEPA objective compares the predictor's output with the target encoder's embeddings
at the target positions. Ragged token sets are padded, so every loss takes a per-token
weight (validity as 0/1, or softer weights such as the AD-L-JEPA empty-cell weight) and
returns the weighted mean ``sum(w * loss_token) / max(sum(w), eps)``; padded tokens with
weight 0 do not change the value or the gradient.

Each distance is a :class:`~jepa_core.objectives.base.LatentTerm` component, registered
under its name in the ``jepa_core.objectives`` entry-point group and chosen by
``objective.loss``; a third-party package adds one the same way.

Papers: I-JEPA (Assran et al., 2023) and V-JEPA use smooth-l1 / l1; AD-L-JEPA
(Zhu et al., 2025) uses ``1 - cos``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_core.objectives.base import LatentTerm


class L2Loss(LatentTerm):
    """``l2``: squared error averaged over the channels."""

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        return (pred - target).square().mean(-1)


class SmoothL1Loss(LatentTerm):
    """``smooth_l1``: Huber with ``beta = 1`` averaged over the channels (I-JEPA)."""

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(pred, target, reduction="none", beta=1.0).mean(-1)


class L1Loss(LatentTerm):
    """``l1``: absolute error averaged over the channels (V-JEPA)."""

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        return (pred - target).abs().mean(-1)


class CosineLoss(LatentTerm):
    """``cosine``: ``1 - cos(pred, target)`` (AD-L-JEPA)."""

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        return 1.0 - F.cosine_similarity(pred, target, dim=-1, eps=1e-8)


#: The built-in latent losses (more may be registered through entry points).
LATENT_LOSSES: tuple[str, ...] = ("l2", "smooth_l1", "l1", "cosine")


def list_latent_losses() -> list[str]:
    """Names of every registered latent loss (built-in and from plugins)."""
    from jepa_core.registry import get_registry

    reg = get_registry("objective")
    return [n for n in reg.list() if issubclass(reg.get(n), LatentTerm)]


def create_latent_term(kind: str, settings: dict | None = None) -> LatentTerm:
    """The registered latent loss ``kind``, as a module, built from ``settings`` (its
    ``objective.terms.KIND`` fields; default: its defaults).

    Raises:
        ValueError: ``kind`` is not registered (naming those that are), its plugin failed
            to load (saying why), or it is a regularizer, not a latent loss.

    Examples:
        >>> type(create_latent_term("cosine")).__name__
        'CosineLoss'
    """
    from jepa_core.registry import UnknownComponentError, get_registry

    reg = get_registry("objective")
    try:
        cls = reg.get(kind)
    except UnknownComponentError as e:
        if kind in reg.failures():
            raise ValueError(f"objective.loss: {e.args[0]}") from None
        raise ValueError(f"unknown latent loss {kind!r} (objective.loss); expected one of "
                         f"{list_latent_losses()}") from None
    if not issubclass(cls, LatentTerm):
        raise ValueError(f"objective.loss: {kind!r} is a {cls.role or 'objective term'}, not a "
                         f"latent loss; expected one of {list_latent_losses()}")
    from jepa_core.config import objective_term_config

    return cls.from_config(objective_term_config(kind, settings))


def per_token_loss(pred: Tensor, target: Tensor, kind: str = "smooth_l1") -> Tensor:
    """Distance between each predicted and target embedding, one value per token.

    ``l2`` is the squared error and ``l1`` the absolute error, both averaged over the
    channels; ``smooth_l1`` is Huber with ``beta=1`` averaged over channels; ``cosine``
    is ``1 - cos(pred, target)``; other names are registered latent losses.

    Args:
        pred: Predicted embeddings.
        target: Target embeddings, same shape as ``pred``.
        kind: A registered latent loss, e.g. ``"l2"``, ``"smooth_l1"``, ``"l1"``, ``"cosine"``.

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
    term = create_latent_term(kind)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} "
                         f"and {tuple(target.shape)}")
    if pred.dim() < 1 or pred.shape[-1] == 0:
        raise ValueError(f"expected embeddings [..., D] with D > 0, got {tuple(pred.shape)}")
    return term.distance(pred, target)


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
        kind: A registered latent loss, e.g. ``"l2"``, ``"smooth_l1"``, ``"l1"``, ``"cosine"``.
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
    return create_latent_term(kind)(pred, target, weight, eps=eps, sync=sync)


class LatentLoss(nn.Module):
    """Module shell around a registered latent loss, holding its name.

    Args:
        kind: A registered latent loss, e.g. ``"l2"``, ``"smooth_l1"``, ``"l1"``, ``"cosine"``.
        eps: Lower bound of the total weight.

    Examples:
        >>> loss = LatentLoss("l2")
        >>> loss(torch.ones(3, 4), torch.zeros(3, 4))
        tensor(1.)
    """

    def __init__(self, kind: str = "smooth_l1", eps: float = 1e-8) -> None:
        super().__init__()
        self.term = create_latent_term(kind)
        self.kind = kind
        self.eps = eps

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        return self.term(pred, target, weight, eps=self.eps)

    def extra_repr(self) -> str:
        return f"kind={self.kind!r}"
