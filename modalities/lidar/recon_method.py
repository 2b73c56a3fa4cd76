"""The ``lidar_recon`` method: masked JEPA plus reconstructing each token's own BEV input.

``method.name: lidar_recon`` (the lidar plugin's default, with ``stats: patch`` and
``weight: 0.3``; ``--set method.name=masked`` for the plain masked objective): the
``masked`` method's loss plus ``weight`` times the mean squared error of a small decoder
that maps a token's output back to fixed statistics of that token's own patch of the BEV
map. With ``stats: cells`` the statistics are per cell (pillar) of the
``patch x patch`` block, laid out by position in the patch: occupied (0/1),
``log(1 + points)``, mean and maximum height, mean intensity (:data:`CELL_STATS`); with
``stats: patch`` they are those of the whole patch, the probe's raw baseline features
(:data:`PATCH_STATS`). They are standardized per dimension over the non-empty tokens of
the batch (of this process), and only non-empty tokens are scored. Nothing is learned in
them, so the student cannot make the term easy by changing its own inputs.

``source`` picks the token outputs that are decoded:

- ``context``: the context encoder's outputs of the context tokens, each to its own patch
  (the student keeps what is in its cell, beside what makes its neighbours predictable);
- ``masked``: the predictor's outputs of the masked target tokens (MAE-style, beside the
  latent loss: a masked cell's content must be inferred from the context).

Set with ``--set method.stats=...`` (``method.weight``, ``method.source``,
``method.hidden``). With ``stats: patch`` on the context tokens the probe no longer falls
over long runs; the numbers and the settings tried are in session 8 of
``benchmarks/results/lidar_long.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_core.config import ComponentConfig, Config, ConfigError
from jepa_core.masking import Masker
from jepa_core.method import JEPA, StepOutput
from jepa_core.models import Encoder, Predictor
from jepa_core.objectives import Objective, masked_moments
from jepa_core.ops import gather_tokens
from jepa_core.targets import TargetProvider
from .options import LidarOptions
from .pillars import POINT_FEATURES, pillarize
from .scatter import scatter
from .tokenizer import EMPTY

#: Statistics of each BEV cell that the decoder reconstructs (``stats: cells``), per token
#: ``len * patch**2``.
CELL_STATS = ("occupied", "log_points", "z_mean", "z_max", "intensity_mean")

#: Statistics of each token's whole patch (``stats: patch``): the probe's raw baseline features.
PATCH_STATS = ("occupied", "log_points", "z_mean", "z_min", "z_max", "z_std", "intensity_mean")

SOURCES = ("context", "masked")
STATS = ("cells", "patch")


@dataclass
class ReconMethodConfig(ComponentConfig):
    """``method:`` section of ``lidar_recon``.

    Args:
        weight: weight of the reconstruction term against the masked latent loss.
        source: ``context`` (decode the context encoder's tokens) or ``masked`` (decode
            the predictor's outputs for the masked tokens).
        hidden: width of the decoder's hidden layer (``0``: a linear decoder).
        stats: ``cells`` (each cell of the patch, :data:`CELL_STATS`) or ``patch`` (the
            whole patch, :data:`PATCH_STATS`).
    """

    weight: float = 1.0
    source: str = "context"
    hidden: int = 0
    stats: str = "cells"


def cell_statistics(batch: dict[str, Tensor], opts: LidarOptions) -> Tensor:
    """Each token's patch of per-cell statistics (:data:`CELL_STATS`), ``[B, N, S * patch**2]``.

    Heights are in metres above the range floor over the range's height, intensities as
    read; empty cells are all zeros.

    Examples:
        >>> from modalities.lidar.pillars import concat_clouds
        >>> o = LidarOptions(patch=8)
        >>> x = cell_statistics(concat_clouds([torch.tensor([[0.1, -25.5, -1.0, 0.5]])]), o)
        >>> tuple(x.shape), x[0, 0, :64].sum().item()
        ((1, 256, 320), 1.0)
    """
    b = len(batch["index"])
    h, w = opts.grid_size()
    pillars = pillarize(batch["points"].float(), batch["batch"], b, opts)
    feats, pillar, count = pillars["point_feats"], pillars["point_pillar"], pillars["pillar_count"]
    q = len(count)
    z, intensity = POINT_FEATURES.index("z"), POINT_FEATURES.index("intensity")
    stats = torch.stack([
        torch.ones(q, dtype=feats.dtype, device=feats.device),
        torch.log1p(count.to(feats.dtype)),
        scatter(feats[:, z], pillar, q, "mean"),
        scatter(feats[:, z], pillar, q, "max"),
        scatter(feats[:, intensity], pillar, q, "mean"),
    ], dim=1)
    dense = stats.new_zeros(b * h * w, len(CELL_STATS)).index_put((pillars["pillar_cell"],), stats)
    dense = dense.view(b, h, w, -1).permute(0, 3, 1, 2)  # [B, S, H, W]
    return F.pixel_unshuffle(dense, opts.patch).flatten(2).transpose(1, 2)  # [B, H'W', S p^2]


def patch_statistics(batch: dict[str, Tensor], opts: LidarOptions) -> Tensor:
    """Each token's statistics over its whole patch (:data:`PATCH_STATS`), ``[B, N, 7]``.

    The occupied fraction of the patch's cells, ``log(1 + points)``, the mean, minimum,
    maximum and standard deviation of the points' heights (as in :func:`cell_statistics`)
    and their mean intensity; empty patches are all zeros.

    Examples:
        >>> from modalities.lidar.pillars import concat_clouds
        >>> o = LidarOptions(patch=8)
        >>> pts = torch.tensor([[0.1, -25.5, -1.0, 0.5], [0.2, -25.5, 0.0, 0.5]])
        >>> patch_statistics(concat_clouds([pts]), o)[0, 0, [0, 2, 5]].tolist()
        [0.015625, 0.625, 0.125]
    """
    b = len(batch["index"])
    h, w = opts.grid_size()
    p = opts.patch
    n = (h // p) * (w // p)
    pillars = pillarize(batch["points"].float(), batch["batch"], b, opts)
    feats, cell = pillars["point_feats"], pillars["pillar_cell"]

    def token(flat: Tensor) -> Tensor:  # flat cell b * H * W + row * W + col -> b * N + token
        sample, rc = flat // (h * w), flat % (h * w)
        return sample * n + (rc // w // p) * (w // p) + (rc % w) // p

    point_token = token(cell)[pillars["point_pillar"]]
    z = feats[:, POINT_FEATURES.index("z")]
    z_mean = scatter(z, point_token, b * n, "mean")
    z_sq = scatter(z * z, point_token, b * n, "mean")
    stats = torch.stack([
        torch.bincount(token(cell), minlength=b * n).to(z.dtype) / p ** 2,
        torch.log1p(torch.bincount(point_token, minlength=b * n).to(z.dtype)),
        z_mean,
        scatter(z, point_token, b * n, "min"),
        scatter(z, point_token, b * n, "max"),
        (z_sq - z_mean ** 2).clamp_min(0).sqrt(),
        scatter(feats[:, POINT_FEATURES.index("intensity")], point_token, b * n, "mean"),
    ], dim=1)
    return stats.view(b, n, len(PATCH_STATS))


def standardized(x: Tensor, keep: Tensor, eps: float = 1e-4) -> Tensor:
    """``x`` standardized per last dimension over its rows where ``keep`` is true.

    Fewer than two such rows give zeros.

    Shapes:
        x ``[..., S]``, keep ``[...]`` -> ``[..., S]``.
    """
    # this process's rows only, weighted (x[keep] would wait for the device); unbiased, as Tensor.std
    mean, var, n = masked_moments(x.reshape(-1, x.shape[-1]), keep.reshape(-1, 1), sync=False, dtype=x.dtype)
    return torch.where(n >= 2, (x - mean) / (var.sqrt() + eps), torch.zeros_like(x))


class ReconJEPA(JEPA):
    """The masked JEPA of :class:`~jepa_core.method.JEPA` plus the reconstruction term.

    The arguments are :class:`JEPA`'s; the term's settings are ``cfg.method`` (a
    :class:`ReconMethodConfig`), the BEV grid is the tokenizer's ``opts``.
    """

    config_class = ReconMethodConfig

    def __init__(self, encoder: Encoder, predictor: Predictor, target: TargetProvider,
                 masker: Masker, objective: Objective, cfg: Config) -> None:
        super().__init__(encoder, predictor, target, masker, objective, cfg)
        method = cfg.method if isinstance(cfg.method, ReconMethodConfig) else ReconMethodConfig()
        if not method.weight >= 0:
            raise ConfigError(f"method.weight must be >= 0, got {method.weight!r}")
        if method.source not in SOURCES:
            raise ConfigError(f"method.source must be one of {SOURCES}, got {method.source!r}")
        if method.hidden < 0:
            raise ConfigError(f"method.hidden must be >= 0, got {method.hidden!r}")
        if method.stats not in STATS:
            raise ConfigError(f"method.stats must be one of {STATS}, got {method.stats!r}")
        self.opts = encoder.tokenizer.opts
        self.recon_weight = float(method.weight)
        self.source = method.source
        in_dim = encoder.dim if self.source == "context" else (target.out_dim or encoder.dim)
        self.statistics = cell_statistics if method.stats == "cells" else patch_statistics
        out_dim = len(CELL_STATS) * self.opts.patch ** 2 if method.stats == "cells" else len(PATCH_STATS)
        self.decoder = (nn.Linear(in_dim, out_dim) if method.hidden == 0 else
                        nn.Sequential(nn.Linear(in_dim, method.hidden), nn.GELU(),
                                      nn.Linear(method.hidden, out_dim)))

    def forward(self, batch, sample_ids: Tensor, step: int) -> StepOutput:
        s = self.masked_step(batch, sample_ids, step)
        if self.recon_weight == 0:
            return s.output()
        occupied = s.tokens.types != EMPTY  # [B, N]
        stats = standardized(self.statistics(s.batch, self.opts), occupied)  # augmented when training
        if self.source == "context":
            idx, out, keep = s.masks.context_idx, s.z_ctx, s.ctx_keep
        else:
            b, m, kt = s.weight.shape
            idx = s.masks.target_idx.reshape(b, m * kt)
            out, keep = s.pred.reshape(b, m * kt, -1), s.masks.target_valid.reshape(b, m * kt)
        keep = keep & torch.gather(occupied, 1, idx)
        target = gather_tokens(stats, idx)
        err = (self.decoder(out.float()) - target).pow(2).mean(-1)
        term = (err * keep).sum() / keep.sum().clamp_min(1)
        s.loss = s.loss + self.recon_weight * term
        s.parts["recon"] = term.detach()
        return s.output()
