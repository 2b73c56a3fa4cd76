"""Point clouds to pillars: crop, assign BEV cells, per-point PointPillars features.

Everything is vectorized over all points of a batch (a dense ``bincount`` over the
BEV cells for the pillar ids, ``scatter`` (:mod:`.scatter`) for the per-pillar means);
nothing loops over points or pillars in Python. The learnable part (the PointNet that pools these features per
pillar) lives in :mod:`modalities.lidar.tokenizer`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .options import LidarOptions
from .scatter import scatter

#: Per-point input features of the pillar feature net (PointPillars' nine).
POINT_FEATURES = ("x", "y", "z", "intensity", "dx_mean", "dy_mean", "dz_mean", "dx_centre", "dy_centre")


def crop_mask(points: Tensor, point_range: list[float]) -> Tensor:
    """``[P]`` bool: points inside ``[x0, y0, z0, x1, y1, z1)``."""
    lo = points.new_tensor(point_range[:3])
    hi = points.new_tensor(point_range[3:])
    xyz = points[:, :3]
    return ((xyz >= lo) & (xyz < hi)).all(dim=1)


def cell_index(points: Tensor, opts: LidarOptions) -> Tensor:
    """``[P]`` int64 row-major BEV cell of each (cropped) point: ``row * W + col``.

    Rows run along y, columns along x, so the map is ``[H, W] = [ny, nx]``.
    """
    h, w = opts.grid_size()
    x0, y0 = opts.point_range[0], opts.point_range[1]
    col = ((points[:, 0] - x0) / opts.pillar_size[0]).floor().long().clamp_(0, w - 1)
    row = ((points[:, 1] - y0) / opts.pillar_size[1]).floor().long().clamp_(0, h - 1)
    return row * w + col


def pillarize(points: Tensor, batch: Tensor, num_samples: int, opts: LidarOptions) -> dict[str, Tensor]:
    """Group the points of a batch into pillars and build their per-point features.

    Args:
        points: ``[P, 4]`` (x, y, z, intensity) of all samples, concatenated.
        batch: ``[P]`` int64 sample index of each point.
        num_samples: ``B``.
        opts: the BEV grid.

    Returns:
        ``point_feats [P', 9]`` (see :data:`POINT_FEATURES`), ``point_pillar [P']`` (pillar
        of each kept point), ``pillar_cell [Q]`` (flat cell ``b * H * W + row * W + col``),
        ``pillar_count [Q]`` (points per pillar), where ``P'`` counts the points in range.

    Examples:
        >>> o = LidarOptions()
        >>> p = torch.tensor([[1.0, 0.0, 0.0, 0.5], [1.1, 0.1, 0.2, 0.5], [9.0, 3.0, 0.0, 0.1]])
        >>> out = pillarize(p, torch.zeros(3, dtype=torch.long), 1, o)
        >>> out["pillar_count"].tolist()
        [2, 1]
    """
    keep = crop_mask(points, opts.point_range)
    points, batch = points[keep], batch[keep]
    h, w = opts.grid_size()
    cell = batch * (h * w) + cell_index(points, opts)
    # dense counting instead of torch.unique: O(P + B*H*W), no sort
    dense = torch.bincount(cell, minlength=num_samples * h * w)
    pillar_cell = torch.nonzero(dense).squeeze(1)
    count = dense[pillar_cell]
    slot = torch.cumsum(dense > 0, 0) - 1
    point_pillar = slot[cell]
    q = len(pillar_cell)
    mean = scatter(points[:, :3], point_pillar, q, "mean")
    flat = pillar_cell % (h * w)
    x0, y0, z0, x1, y1, z1 = opts.point_range
    vx, vy = opts.pillar_size
    centre = torch.stack([(flat % w).to(points.dtype) * vx + (x0 + vx / 2),
                          (flat // w).to(points.dtype) * vy + (y0 + vy / 2)], dim=1)
    scale = points.new_tensor([x1 - x0, y1 - y0, z1 - z0])
    feats = torch.cat([
        (points[:, :3] - points.new_tensor([x0, y0, z0])) / scale,
        points[:, 3:4],
        (points[:, :3] - mean[point_pillar]) / points.new_tensor([vx, vy, 1.0]),
        (points[:, :2] - centre[point_pillar]) / points.new_tensor([vx, vy]),
    ], dim=1)
    return {"point_feats": feats, "point_pillar": point_pillar, "pillar_cell": pillar_cell,
            "pillar_count": count}


def concat_clouds(clouds: list[Tensor], index: Tensor | None = None) -> dict[str, Tensor]:
    """A raw batch: ``points [P, 4]`` concatenated, ``batch [P]`` sample of each point, ``index [B]``."""
    sizes = torch.tensor([len(c) for c in clouds])
    batch = torch.repeat_interleave(torch.arange(len(clouds)), sizes)
    index = torch.arange(len(clouds)) if index is None else index
    return {"points": torch.cat(clouds, dim=0).float(), "batch": batch, "index": index}


def occupancy(pillar_cell: Tensor, pillar_count: Tensor, num_samples: int, opts: LidarOptions) -> Tensor:
    """``[B, H, W]`` points per BEV cell (zero for empty cells)."""
    h, w = opts.grid_size()
    dense = pillar_count.new_zeros(num_samples * h * w)
    dense[pillar_cell] = pillar_count
    return dense.view(num_samples, h, w)

