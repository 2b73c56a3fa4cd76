"""Latent objectives and anti-collapse regularizers.

Latent losses (``l2``, ``smooth_l1``, ``l1``, ``cosine``, and any a plugin registers in
the ``jepa_core.objectives`` entry-point group) weighted per token; SIGReg (LeJEPA /
LeWM), VICReg's variance and covariance terms and the AD-L-JEPA variance hinge; and
:class:`Objective`, which combines them from an ``ObjectiveConfig``. Under ``torchrun``
every statistic is over the global batch.
"""

from jepa_core.objectives._distributed import masked_mean, masked_moments
from jepa_core.objectives.base import LatentTerm, ObjectiveTerm, Regularizer
from jepa_core.objectives.latent import (
    LATENT_LOSSES,
    CosineLoss,
    L1Loss,
    L2Loss,
    LatentLoss,
    SmoothL1Loss,
    create_latent_term,
    latent_loss,
    list_latent_losses,
    per_token_loss,
)
from jepa_core.objectives.objective import Objective
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
    "CosineLoss",
    "L1Loss",
    "L2Loss",
    "LatentLoss",
    "LatentTerm",
    "Objective",
    "ObjectiveTerm",
    "Regularizer",
    "SIGReg",
    "SmoothL1Loss",
    "VICRegCovariance",
    "VICRegVariance",
    "VarianceHinge",
    "create_latent_term",
    "epps_pulley",
    "epps_pulley_knots",
    "latent_loss",
    "list_latent_losses",
    "masked_mean",
    "masked_moments",
    "per_dim_std",
    "per_token_loss",
    "random_slices",
    "sigreg",
    "variance_hinge",
    "vicreg_covariance",
    "vicreg_variance",
]
