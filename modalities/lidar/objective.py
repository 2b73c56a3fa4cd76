"""VICReg's covariance term for the first steps of a run only, then faded out.

The term decorrelates the embedding dimensions. Early in a run that keeps the BEV
features from settling on a few directions; kept at full weight for a long run it whitens
them: the prediction loss rises and the per-token probe falls. Limiting it to the start
of the run (in steps, so that a longer run is the same run continued rather than a
stretched one) keeps the first and drops the second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor

from jepa_core.config import ComponentConfig
from jepa_core.objectives.base import Regularizer
from jepa_core.objectives.vicreg import vicreg_covariance


@dataclass
class FadingCovarianceConfig(ComponentConfig):
    """``objective.terms.fading_covariance``: full weight for ``full_steps`` steps, then a
    half-cosine down to 0 over ``fade_steps`` steps."""

    full_steps: int = 120
    fade_steps: int = 120


def fade_factor(step: int, full_steps: int, fade_steps: int) -> float:
    """The share of the weight at ``step``: 1 until ``full_steps``, then a half-cosine to 0.

    Examples:
        >>> [round(fade_factor(s, 2, 2), 2) for s in range(6)]
        [1.0, 1.0, 1.0, 0.5, 0.0, 0.0]
    """
    if step <= full_steps:
        return 1.0
    if step >= full_steps + fade_steps:
        return 0.0
    return 0.5 * (1.0 + math.cos(math.pi * (step - full_steps) / fade_steps))


class FadingCovariance(Regularizer):
    """:func:`~jepa_core.objectives.vicreg.vicreg_covariance` times :func:`fade_factor`.

    Args:
        full_steps: steps at full weight.
        fade_steps: steps of the fade to 0 after them (0: stop at once).

    Examples:
        >>> import torch
        >>> reg = FadingCovariance(full_steps=1, fade_steps=0)
        >>> z = torch.tensor([[1.0, 1.0], [-1.0, -1.0]])
        >>> reg(z, step=1).item(), reg(z, step=2).item()
        (4.0, 0.0)
    """

    config_class = FadingCovarianceConfig

    def __init__(self, full_steps: int = 120, fade_steps: int = 120) -> None:
        super().__init__()
        if full_steps < 0 or fade_steps < 0:
            raise ValueError(f"full_steps and fade_steps must be >= 0, got {full_steps}, {fade_steps}")
        self.full_steps, self.fade_steps = int(full_steps), int(fade_steps)

    def forward(self, z: Tensor, *, mask: Tensor | None = None, seed: int = 0, step: int = 0,
                sync: bool = True) -> Tensor:
        factor = fade_factor(step, self.full_steps, self.fade_steps)
        if factor == 0.0:  # nothing left to decorrelate for: skip the D x D covariance
            return z.new_zeros((), dtype=z.dtype).float()
        return factor * vicreg_covariance(z, sync=sync, mask=mask)

    def extra_repr(self) -> str:
        return f"full_steps={self.full_steps}, fade_steps={self.fade_steps}"
