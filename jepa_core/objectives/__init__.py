"""Latent objectives and anti-collapse regularizers.

Latent losses (``l2``, ``smooth_l1``, ``l1``, ``cosine``) weighted per token; SIGReg
(LeJEPA / LeWM), VICReg's variance and covariance terms and the AD-L-JEPA variance hinge;
and :class:`Objective`, which combines them from an ``ObjectiveConfig``. Under
``torchrun`` every statistic is over the global batch.
"""

from jepa_core.objectives.latent import LATENT_LOSSES, LatentLoss, latent_loss, per_token_loss
from jepa_core.objectives.objective import PART_NAMES, Objective, create_objective
from jepa_core.objectives.sigreg import SIGReg, epps_pulley, epps_pulley_knots, random_slices, sigreg
from jepa_core.objectives.variance_hinge import VarianceHinge, variance_hinge
from jepa_core.objectives.vicreg import (
    VICRegCovariance,
    VICRegVariance,
    per_dim_std,
    vicreg_covariance,
    vicreg_variance,
)

__all__ = [
    "LATENT_LOSSES",
    "PART_NAMES",
    "LatentLoss",
    "Objective",
    "SIGReg",
    "VICRegCovariance",
    "VICRegVariance",
    "VarianceHinge",
    "create_objective",
    "epps_pulley",
    "epps_pulley_knots",
    "latent_loss",
    "per_dim_std",
    "per_token_loss",
    "random_slices",
    "sigreg",
    "variance_hinge",
    "vicreg_covariance",
    "vicreg_variance",
]
