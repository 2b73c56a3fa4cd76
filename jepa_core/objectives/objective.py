"""The JEPA objective: latent prediction loss plus weighted anti-collapse regularizers.

``total = latent + sigreg * w_sigreg + vicreg_var * w_var + vicreg_cov * w_cov
+ variance_hinge * w_hinge + sum(w * reg)`` over ``objective.regularizers`` (any
registered :class:`~jepa_core.objectives.base.Regularizer`, a third party's included); a
regularizer is computed only when its weight is > 0.
Target normalization (``ObjectiveConfig.normalize_targets``) and the token-type weights
(``ObjectiveConfig.type_weights``, see :mod:`jepa_core.objectives.weights`) are applied
by the caller (the method) before this.
Under ``torchrun`` every term is a statistic of the global batch (see
``jepa_core.objectives._distributed``), so all ranks log the same numbers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from jepa_core.config import ObjectiveConfig
from jepa_core.objectives.latent import create_latent_term
from jepa_core.objectives.sigreg import sigreg
from jepa_core.objectives.variance_hinge import variance_hinge
from jepa_core.objectives.vicreg import vicreg_covariance, vicreg_variance

class Objective(nn.Module):
    """Latent loss plus SIGReg / VICReg / variance-hinge regularizers, with fixed weights.

    Args:
        loss: A registered latent loss (``"l2"``, ``"smooth_l1"``, ``"l1"``, ``"cosine"``,
            or one a plugin adds through the ``jepa_core.objectives`` entry points).
        sigreg: Weight of SIGReg (LeJEPA / LeWM); 0 disables it.
        sigreg_slices: Random slices per step for SIGReg.
        vicreg_variance: Weight of VICReg's variance term (gamma 1).
        vicreg_covariance: Weight of VICReg's covariance term.
        variance_hinge: Weight of the AD-L-JEPA variance hinge.
        hinge_gamma: Target std of the variance hinge.
        num_knots: SIGReg quadrature knots.
        t_max: SIGReg integration range.
        sync: Compute every term over the global batch when a process group is running
            (all ranks must then call the objective together); ``False`` keeps each
            rank's terms local, e.g. for a loss computed on one rank only.
        regularizers: Weights of other registered regularizers, ``{name: weight}``.
        terms: Settings of terms that declare a ``config_class``, ``{name: {field: value}}``
            (``objective.terms``).

    Examples:
        >>> import torch
        >>> obj = Objective(loss="l2", sigreg=0.1, sigreg_slices=16)
        >>> pred, target = torch.ones(2, 3, 4), torch.zeros(2, 3, 4)
        >>> weight = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
        >>> emb = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
        >>> total, parts = obj(pred, target, weight, emb, seed=0, step=0)
        >>> sorted(parts), parts["latent"]
        (['latent', 'sigreg'], 1.0)
        >>> abs(total.item() - (1.0 + 0.1 * parts["sigreg"])) < 1e-5
        True
    """

    def __init__(self, loss: str = "smooth_l1", sigreg: float = 0.0, sigreg_slices: int = 256,
                 vicreg_variance: float = 0.0, vicreg_covariance: float = 0.0,
                 variance_hinge: float = 0.0, hinge_gamma: float = 1.0,
                 num_knots: int = 17, t_max: float = 3.0, sync: bool = True,
                 regularizers: dict[str, float] | None = None,
                 terms: dict[str, dict] | None = None) -> None:
        super().__init__()
        terms = terms or {}
        self.latent = create_latent_term(loss, terms.get(loss))
        self.extra_weights, self.extra = _registered_regularizers(regularizers or {}, terms)
        weights = {"sigreg": sigreg, "vicreg_variance": vicreg_variance,
                   "vicreg_covariance": vicreg_covariance, "variance_hinge": variance_hinge}
        for name, w in weights.items():
            if not w >= 0:
                raise ValueError(f"objective.{name} must be a weight >= 0, got {w!r}")
        if sigreg_slices < 1:
            raise ValueError(f"objective.sigreg_slices must be >= 1, got {sigreg_slices}")
        if not hinge_gamma > 0:
            raise ValueError(f"objective.hinge_gamma must be > 0, got {hinge_gamma!r}")
        self.loss = loss
        self.sigreg_weight = float(sigreg)
        self.sigreg_slices = int(sigreg_slices)
        self.vicreg_variance_weight = float(vicreg_variance)
        self.vicreg_covariance_weight = float(vicreg_covariance)
        self.variance_hinge_weight = float(variance_hinge)
        self.hinge_gamma = float(hinge_gamma)
        self.num_knots = int(num_knots)
        self.t_max = float(t_max)
        self.sync = bool(sync)

    @classmethod
    def from_config(cls, cfg: ObjectiveConfig) -> "Objective":
        """Build from the ``objective`` section of a run config.

        Examples:
            >>> Objective.from_config(ObjectiveConfig(loss="cosine", sigreg=0.05)).regularized
            True
        """
        return cls(loss=cfg.loss, sigreg=cfg.sigreg, sigreg_slices=cfg.sigreg_slices,
                   vicreg_variance=cfg.vicreg_variance, vicreg_covariance=cfg.vicreg_covariance,
                   variance_hinge=cfg.variance_hinge, hinge_gamma=cfg.hinge_gamma,
                   regularizers=dict(cfg.regularizers), terms=dict(cfg.terms))

    @property
    def regularized(self) -> bool:
        """Whether any regularizer is enabled (then ``embeddings`` is required)."""
        return any(w > 0 for w in (self.sigreg_weight, self.vicreg_variance_weight,
                                   self.vicreg_covariance_weight, self.variance_hinge_weight,
                                   *self.extra_weights.values()))

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None,
                embeddings: Tensor | None = None, *, seed: int, step: int,
                embedding_mask: Tensor | None = None) -> tuple[Tensor, dict[str, float]]:
        """Total loss and its unweighted parts as Python floats (see :meth:`terms`).

        Reading the parts as floats waits for the device; the training step calls
        :meth:`terms` instead, which keeps them as tensors.
        """
        total, parts = self.terms(pred, target, weight, embeddings, seed=seed, step=step,
                                  embedding_mask=embedding_mask)
        values = torch.stack(list(parts.values())).tolist()
        return total, dict(zip(parts, values))

    def terms(self, pred: Tensor, target: Tensor, weight: Tensor | None,
              embeddings: Tensor | None = None, *, seed: int, step: int,
              embedding_mask: Tensor | None = None) -> tuple[Tensor, dict[str, Tensor]]:
        """Total loss and its unweighted parts, all tensors (no host synchronisation).

        Args:
            pred: Predicted embeddings at the target positions.
            target: Target embeddings (detached and normalized by the caller).
            weight: Per-token weights (validity 0/1 or soft); ``None`` weighs all 1.
            embeddings: The embeddings to regularize (flattened tokens); required when a
                regularizer is enabled.
            seed: Run seed (fixes SIGReg's slices together with ``step``).
            step: Training step.
            embedding_mask: Which rows of ``embeddings`` to regularize (``[n]`` bool, e.g.
                the valid context tokens); ``None`` uses them all. A mask keeps shapes
                fixed where ``embeddings[mask]`` would wait for the device.

        Returns:
            ``(total, parts)``: the scalar float32 loss to backpropagate, and a dict of
            the unweighted terms as detached 0-d tensors, keyed ``"latent"`` plus those
            of ``"sigreg"``, ``"vicreg_var"``, ``"vicreg_cov"``, ``"variance_hinge"`` that
            are enabled.

        Shapes:
            pred, target: ``[..., D]``; weight: ``[...]``; embeddings: ``[n, E]``;
            embedding_mask: ``[n]``.
        """
        terms: dict[str, tuple[Tensor, float]] = {
            "latent": (self.latent(pred, target, weight, sync=self.sync), 1.0)}
        if self.regularized:
            if embeddings is None:
                raise ValueError("this objective has regularizers enabled; pass the [n, D] "
                                 "embeddings to regularize")
            if embeddings.dim() != 2:
                raise ValueError(f"embeddings must be [n, D], got shape {tuple(embeddings.shape)}")
        mask = embedding_mask
        if self.sigreg_weight > 0:
            terms["sigreg"] = (sigreg(embeddings, self.sigreg_slices, seed, step, self.num_knots,
                                      self.t_max, sync=self.sync, mask=mask), self.sigreg_weight)
        if self.vicreg_variance_weight > 0:
            terms["vicreg_var"] = (vicreg_variance(embeddings, sync=self.sync, mask=mask),
                                   self.vicreg_variance_weight)
        if self.vicreg_covariance_weight > 0:
            terms["vicreg_cov"] = (vicreg_covariance(embeddings, sync=self.sync, mask=mask),
                                   self.vicreg_covariance_weight)
        if self.variance_hinge_weight > 0:
            terms["variance_hinge"] = (variance_hinge(embeddings, self.hinge_gamma,
                                                      sync=self.sync, mask=mask),
                                       self.variance_hinge_weight)
        for name, reg in self.extra.items():
            terms[name] = (reg(embeddings, mask=mask, seed=seed, step=step, sync=self.sync),
                           self.extra_weights[name])
        total = sum(value * w for value, w in terms.values())
        return total, {name: value.detach() for name, (value, _) in terms.items()}

    def extra_repr(self) -> str:
        return (f"loss={self.loss!r}, sigreg={self.sigreg_weight}, "
                f"sigreg_slices={self.sigreg_slices}, vicreg_variance={self.vicreg_variance_weight}, "
                f"vicreg_covariance={self.vicreg_covariance_weight}, "
                f"variance_hinge={self.variance_hinge_weight}, hinge_gamma={self.hinge_gamma}, "
                f"sync={self.sync}")


#: Built-in regularizers with their own ``objective.*`` weight field.
_OWN_FIELDS = ("sigreg", "vicreg_variance", "vicreg_covariance", "variance_hinge")


def _registered_regularizers(weights: dict[str, float],
                             terms: dict[str, dict]) -> tuple[dict[str, float], nn.ModuleDict]:
    """The ``objective.regularizers`` entries with a weight > 0, built from the registry
    (each with its ``objective.terms.NAME`` settings).

    Raises:
        ValueError: a negative weight, a built-in that has its own weight field, or a
            registered objective term that is not a regularizer (a latent loss).
    """
    from jepa_core.registry import get_registry

    kept, modules = {}, nn.ModuleDict()
    for name, w in weights.items():
        where = f"objective.regularizers.{name}"
        if not w >= 0:
            raise ValueError(f"{where} must be a weight >= 0, got {w!r}")
        if name in _OWN_FIELDS:
            raise ValueError(f"{where}: the built-in {name!r} has its own weight, set objective.{name}")
        cls = get_registry("objective").get(name)
        if getattr(cls, "role", "") != "regularizer":
            raise ValueError(f"{where}: {name!r} is a latent loss (objective.loss), not a regularizer")
        if w > 0:
            from jepa_core.config import objective_term_config

            kept[name], modules[name] = float(w), cls.from_config(objective_term_config(name, terms.get(name)))
    return kept, modules
