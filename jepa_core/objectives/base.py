"""Objective terms as components: latent losses and regularizers.

Both are found through the ``jepa_core.objectives`` entry-point group. A latent loss
(:class:`LatentTerm`) is chosen by ``objective.loss``; a third party adds one by
subclassing it and declaring an entry point. A regularizer (:class:`Regularizer`) is
switched on by a weight: the built-ins by their own ``objective.*`` fields, any other
registered one through ``objective.regularizers: {name: weight}``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from jepa_core.objectives._distributed import global_sum


class ObjectiveTerm(nn.Module):
    """Base of every objective component; ``role`` is ``latent`` or ``regularizer``.

    ``config_class`` (a :class:`~jepa_core.config.ComponentConfig` dataclass) declares
    the term's own settings, set in ``objective.terms.NAME``; :meth:`from_config` passes
    them to the constructor as keyword arguments.
    """

    role: ClassVar[str] = ""
    config_class: ClassVar[type | None] = None

    @classmethod
    def from_config(cls, cfg: Any) -> "ObjectiveTerm":
        """Build from the term's config: its fields (all but ``name``) as keyword args."""
        return cls(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
                      if f.name != "name"})


class LatentTerm(ObjectiveTerm):
    """A per-token distance between predicted and target embeddings, as a weighted mean.

    Subclasses implement :meth:`distance`; :meth:`forward` is the weighted mean
    ``sum(w * d) / max(sum(w), eps)`` over the (global) batch.

    Examples:
        >>> class Abs(LatentTerm):
        ...     def distance(self, pred, target):
        ...         return (pred - target).abs().sum(-1)
        >>> Abs()(torch.ones(2, 3), torch.zeros(2, 3), torch.tensor([1.0, 0.0]))
        tensor(3.)
    """

    role: ClassVar[str] = "latent"

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:  # pragma: no cover - interface
        """Per-token distance ``[..., D] x [..., D] -> [...]``."""
        raise NotImplementedError

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None, *,
                eps: float = 1e-8, sync: bool = True) -> Tensor:
        if pred.shape != target.shape:
            raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} "
                             f"and {tuple(target.shape)}")
        if pred.dim() < 1 or pred.shape[-1] == 0:
            raise ValueError(f"expected embeddings [..., D] with D > 0, got {tuple(pred.shape)}")
        per = self.distance(pred, target).float()
        if per.shape != pred.shape[:-1]:
            raise ValueError(f"{type(self).__name__}.distance must return pred.shape[:-1] = "
                             f"{tuple(pred.shape[:-1])}, got {tuple(per.shape)}")
        if weight is None:
            weight = torch.ones_like(per)
        elif weight.shape != per.shape:
            raise ValueError(f"weight must have shape {tuple(per.shape)} (pred without its last "
                             f"dim), got {tuple(weight.shape)}")
        w = weight.to(device=per.device, dtype=torch.float32)
        sums = global_sum(torch.stack([(w * per).sum(), w.sum()]), sync)
        return sums[0] / sums[1].clamp_min(eps)


class Regularizer(ObjectiveTerm):
    """An anti-collapse term on ``[n, D]`` embeddings (SIGReg, VICReg, variance hinge).

    Every regularizer is called the same way, ``reg(z, mask=..., seed=..., step=...,
    sync=...)``, and returns a scalar: ``mask`` (``[n]`` bool, ``None``: all rows) picks
    the rows to use, ``seed``/``step`` fix any randomness of the step, ``sync`` asks for
    global-batch statistics under ``torchrun``. A third-party regularizer (a subclass with
    an entry point in ``jepa_core.objectives``) is switched on with a weight in
    ``objective.regularizers: {name: weight}``.

    Examples:
        >>> class MeanNorm(Regularizer):
        ...     def forward(self, z, *, mask=None, seed=0, step=0, sync=True):
        ...         return z.mean(0).norm()
        >>> MeanNorm()(torch.ones(4, 3)).item() > 1.7
        True
    """

    role: ClassVar[str] = "regularizer"

    def forward(self, z: Tensor, *, mask: Tensor | None = None, seed: int = 0, step: int = 0,
                sync: bool = True) -> Tensor:  # pragma: no cover - interface
        raise NotImplementedError
