"""The BEV tokenizer: pillar feature net, dense BEV scatter, patch embedding, empty token.

A raw batch (see :func:`modalities.lidar.pillars.pillarize`) becomes a
:class:`~jepa_core.tokens.TokenBatch` on a 2-D grid of BEV patches. As in PointPillars,
each point's nine features go through a shared linear layer and ReLU and are
max-pooled per pillar with ``scatter`` (:mod:`.scatter`); beside these learned channels
each pillar carries three statistics (mean height, mean intensity, log point count). The
pillar features are written into a dense ``[B, C, H, W]`` map. Each ``patch x patch``
block of cells becomes one token: its pillar features max-pooled and averaged over the
occupied cells, with the occupied fraction (position-invariant within the patch, so the
token says what is there rather than where in the patch), through a linear layer and a
LayerNorm, scaled by ``options.token_scale``. Patches with no points get the token type
:data:`EMPTY` in ``TokenBatch.types`` (read by the ``bev`` masker and weighted by
``objective.type_weights``) and their token is replaced by a learnable empty token, as in
AD-L-JEPA.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from jepa_core.modality import Tokenizer
from jepa_core.tokens import TokenBatch, TokenLayout

from .augment import augment_points, scan_transforms
from .options import LidarOptions
from .pillars import POINT_FEATURES, occupancy, pillarize
from .scatter import scatter


#: ``TokenBatch.types`` id of a BEV patch without points (0: a patch holding points).
EMPTY = 1

#: Per-pillar statistics appended to the learned channels of :class:`PillarFeatureNet`.
PILLAR_STATS = ("z_mean", "intensity_mean", "log_points")


class PillarFeatureNet(nn.Module):
    """Per-point linear + ReLU, max-pooled per pillar, beside the pillar's statistics.

    Max-pooled random ReLU features keep extremes, not averages or counts, and lost to
    plain per-token statistics on the demo probe. So each pillar also carries
    :data:`PILLAR_STATS`: the mean height (in metres above the range floor) and
    intensity (times 4, on the scale of the learned channels) of its points and
    ``log(1 + points)``.

    PointPillars normalizes here with BatchNorm (per channel, over points). A per-point
    LayerNorm does not fit: it rescales each point's channel vector to unit variance,
    throwing away much of the height and intensity signal. BatchNorm's running
    statistics are buffers, which the EMA teacher does not average, so no norm is used;
    ``pillarize`` scales the inputs to order one instead. The probe numbers behind both
    choices are in ``benchmarks/results/lidar_probe.md``.

    Args:
        channels: learned channels ``C``; the output has ``C + 3``.
        z_extent: height of the point range in metres (``point_feats``' z is divided by it).

    Shapes:
        point_feats ``[P, 9]``, point_pillar ``[P]``, pillar_count ``[Q]`` -> ``[Q, C + 3]``.
    """

    def __init__(self, channels: int, z_extent: float) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(len(POINT_FEATURES), channels), nn.ReLU())
        self.out_channels = channels + len(PILLAR_STATS)
        self.stat_columns = [POINT_FEATURES.index("z"), POINT_FEATURES.index("intensity")]
        self.register_buffer("stat_scale", torch.tensor([z_extent, 4.0]), persistent=False)

    def forward(self, point_feats: Tensor, point_pillar: Tensor, pillar_count: Tensor) -> Tensor:
        q = len(pillar_count)
        learned = scatter(self.net(point_feats), point_pillar, q, "max")
        means = scatter(point_feats[:, self.stat_columns], point_pillar, q, "mean")
        log_points = torch.log1p(pillar_count.to(learned.dtype))[:, None]
        return torch.cat([learned, means * self.stat_scale.to(learned.dtype), log_points], dim=1)


class BevTokenizer(Tokenizer):
    """Raw pillarized batch to BEV patch tokens.

    Args:
        opts: the BEV grid and pillar net width.
        dim: token width (``cfg.model.dim``).

    Shapes:
        batch: ``points [P, 4]``, ``batch [P]``, ``index [B]`` (see
        :func:`~modalities.lidar.pillars.concat_clouds`). Output tokens ``[B, H' * W', dim]`` with
        ``types [B, H' * W']`` :data:`EMPTY` where the patch holds no point, else 0.

    Examples:
        >>> from modalities.lidar.pillars import concat_clouds
        >>> tok = BevTokenizer(LidarOptions(), dim=16)
        >>> tb = tok(concat_clouds([torch.tensor([[5.0, 0.0, -1.0, 0.3]])]))
        >>> tuple(tb.tokens.shape), int((tb.types == EMPTY).sum())
        ((1, 1024, 16), 1023)
    """

    def __init__(self, opts: LidarOptions, dim: int) -> None:
        super().__init__()
        opts.validate()
        self.opts = opts
        self.dim = dim
        self.layout = TokenLayout(opts.token_grid())
        self.pillar_net = PillarFeatureNet(opts.pillar_channels, opts.point_range[5] - opts.point_range[2])
        self.pool_max = nn.MaxPool2d(opts.patch)
        self.pool_mean = nn.AvgPool2d(opts.patch)
        self.patch_embed = nn.Linear(2 * self.pillar_net.out_channels + 1, dim)
        self.norm = nn.LayerNorm(dim)
        self.empty_token = nn.Parameter(torch.zeros(dim))
        nn.init.trunc_normal_(self.empty_token, std=0.02)

    def bev(self, pillars: dict[str, Tensor], num_samples: int) -> Tensor:
        """The dense pillar-feature map ``[B, C, H, W]`` (zeros in empty cells)."""
        h, w = self.opts.grid_size()
        cells = pillars["pillar_cell"]
        feats = self.pillar_net(pillars["point_feats"], pillars["point_pillar"], pillars["pillar_count"])
        dense = feats.new_zeros(num_samples * h * w, feats.shape[1]).index_put((cells,), feats)
        return dense.view(num_samples, h, w, -1).permute(0, 3, 1, 2)

    def augment(self, batch: dict[str, Tensor], sample_ids: Tensor, step: int, seed: int) -> dict[str, Tensor]:
        """Mirror / rotate each scan (``options.augment_flip`` / ``augment_rotate``; default: none)."""
        o = self.opts
        if not o.augment_flip and o.augment_rotate == 0:
            return batch
        if len(sample_ids) != len(batch["index"]):
            raise ValueError(f"{len(sample_ids)} sample ids for a batch of {len(batch['index'])} scans")
        mirror, angle = scan_transforms(sample_ids, step, seed, o.augment_flip, o.augment_rotate)
        return {**batch, "points": augment_points(batch["points"], batch["batch"], mirror, angle)}

    def forward(self, batch: dict[str, Tensor]) -> TokenBatch:
        b = len(batch["index"])
        dtype = self.patch_embed.weight.dtype
        pillars = pillarize(batch["points"].to(dtype), batch["batch"], b, self.opts)
        bev = self.bev(pillars, b)
        counts = occupancy(pillars["pillar_cell"], pillars["pillar_count"], b, self.opts)
        occupied = self.pool_mean((counts > 0).to(dtype)[:, None])  # [B, 1, H', W']
        # the mean over occupied cells only: an average over all cells would mix the
        # pillars' content with how much of the patch is empty
        occupied_mean = self.pool_mean(bev) / occupied.clamp_min(self.opts.patch ** -2)
        pooled = torch.cat([self.pool_max(bev), occupied_mean, occupied], dim=1)  # [B, 2C'+1, H', W']
        tokens = self.patch_embed(pooled.flatten(2).transpose(1, 2))
        empty = occupied.reshape(b, -1) == 0
        tokens = torch.where(empty[..., None], self.empty_token.to(tokens.dtype), tokens)
        # LayerNorm'd tokens times ``options.token_scale`` (rms = token_scale), so the
        # encoder's sin-cos positions (rms ~0.7) do not drown what is in the patch
        return TokenBatch(tokens=self.norm(tokens) * self.opts.token_scale, layout=self.layout,
                          types=empty.to(torch.int64) * EMPTY)
