"""A latent loss with a contrastive part: each prediction must pick its own target out of
the other scans' targets (``objective.loss: cosine_nce``), for ``lidar_long.py``.

``1 - cos(pred, target)`` (the lidar default) plus ``weight`` times an InfoNCE term: the
cosine similarities of each prediction to every valid target token of the batch, over
``temperature``, with its own target as the positive and the target tokens of the *other*
samples as negatives (the other tokens of its own scan are left out, so the predictor
cannot pick its target by position alone: only the other scans' tokens at the same place,
which differ in content, are hard negatives). Registered at run time by
``lidar_long.py``; tried in session 7 of ``results/lidar_long.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from jepa_core.config import ComponentConfig
from jepa_core.objectives.latent import CosineLoss


@dataclass
class CosineNceConfig(ComponentConfig):
    """``objective.terms.cosine_nce``: the contrastive part's weight and temperature."""

    weight: float = 0.05
    temperature: float = 0.2


class CosineNce(CosineLoss):
    """``cosine_nce``: cosine distance plus a cross-scan InfoNCE term (module docstring)."""

    config_class = CosineNceConfig

    def __init__(self, weight: float = 0.05, temperature: float = 0.2) -> None:
        super().__init__()
        if weight < 0 or temperature <= 0:
            raise ValueError(f"objective.terms.cosine_nce needs weight >= 0 and temperature > 0, "
                             f"got {weight}, {temperature}")
        self.weight, self.temperature = float(weight), float(temperature)

    def forward(self, pred: Tensor, target: Tensor, weight: Tensor | None = None, *,
                eps: float = 1e-8, sync: bool = True) -> Tensor:
        cos = super().forward(pred, target, weight, eps=eps, sync=sync)
        if self.weight == 0:
            return cos
        b, d = pred.shape[0], pred.shape[-1]
        p = F.normalize(pred.float().reshape(b, -1, d), dim=-1)
        t = F.normalize(target.float().reshape(b, -1, d), dim=-1)
        n = p.shape[1]
        w = (torch.ones(b, n, device=p.device) if weight is None else weight.float().reshape(b, n))
        logits = p.reshape(b * n, d) @ t.reshape(b * n, d).T / self.temperature  # [bn, bn]
        sample = torch.arange(b, device=p.device).repeat_interleave(n)
        own = torch.eye(b * n, dtype=torch.bool, device=p.device)
        keep = ((sample[:, None] != sample[None, :]) | own) & (w.reshape(-1) > 0)[None, :]
        logits = logits.masked_fill(~keep, float("-inf"))
        nce = -torch.diagonal(logits.log_softmax(-1))
        wf = w.reshape(-1)
        nce = (wf * torch.nan_to_num(nce, posinf=0.0)).sum() / wf.sum().clamp_min(eps)
        return cos + self.weight * nce
