"""Training augmentation of LiDAR scans: a random mirror across the sensor's x axis and a
random rotation about its z axis.

These are the global augmentations of PointPillars / SECOND-style detectors, applied to
the points before they are pillarized: a scene mirrored left-right (``y -> -y``) or turned
by a few degrees is as plausible a street as the original, so the encoder cannot learn
features tied to one scan's exact layout. On a small scan set (the 96-scan demo), every
epoch otherwise shows the encoder the very same BEV maps.

Flips and angles are drawn per sample from Philox keyed by ``(seed, step, sample id)``
(:mod:`jepa_core.ops.masking.philox`, on its own stream tag), so a sample's augmentation
depends neither on its batch nor on where a run was resumed. Points turned out of
``options.point_range`` are cropped by the pillarization as usual.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from jepa_core.ops.masking.philox import philox4x32, sample_counters, seed_key

#: Philox stream tag of the LiDAR augmentation (image 0x21, V-JEPA's family 0x23).
TAG_LIDAR_AUGMENT = 0x22


def scan_transforms(sample_ids: Tensor, step: int, seed: int, flip: bool,
                    rotate_deg: float) -> tuple[Tensor, Tensor]:
    """Per-sample mirror flags and rotation angles.

    Args:
        sample_ids: global sample ids of the batch.
        step: training step.
        seed: run seed.
        flip: draw mirrors (each sample with probability 1/2); else none.
        rotate_deg: angles are uniform in ``[-rotate_deg, rotate_deg]`` degrees.

    Returns:
        ``(mirror, angle)``: ``[B]`` bool and ``[B]`` float64 radians, on the ids' device.

    Examples:
        >>> ids = torch.tensor([3, 7])
        >>> m, a = scan_transforms(ids, 5, 0, True, 10.0)
        >>> m2, a2 = scan_transforms(ids[1:], 5, 0, True, 10.0)  # independent of the batch
        >>> bool(m[1] == m2[0]) and bool(a[1] == a2[0]) and bool(a.abs().max() <= math.radians(10))
        True
    """
    ids = sample_ids.detach().to(torch.int64)
    c1, c2, c3 = sample_counters(ids, step, TAG_LIDAR_AUGMENT)
    words = philox4x32(torch.zeros_like(ids), c1, c2, c3, *seed_key(seed))  # [B, 4]
    u = (words >> 8).to(torch.float64) * (1.0 / 16777216.0)
    mirror = (u[:, 0] < 0.5) if flip else torch.zeros_like(ids, dtype=torch.bool)
    angle = (2.0 * u[:, 1] - 1.0) * math.radians(rotate_deg)
    return mirror, angle


def augment_points(points: Tensor, batch: Tensor, mirror: Tensor, angle: Tensor) -> Tensor:
    """Mirror (``y -> -y``), then rotate about z, the points of each sample.

    Args:
        points: ``[P, C]`` with x, y in the first two columns (z, intensity, ... kept).
        batch: ``[P]`` row of the batch each point belongs to.
        mirror: ``[B]`` bool.
        angle: ``[B]`` radians, counter-clockwise.

    Returns:
        ``[P, C]`` points of the same dtype.

    Examples:
        >>> pts = torch.tensor([[1.0, 2.0, 0.5, 0.1]])
        >>> augment_points(pts, torch.tensor([0]), torch.tensor([True]), torch.tensor([0.0])).tolist()
        [[1.0, -2.0, 0.5, 0.10000000149011612]]
        >>> out = augment_points(pts, torch.tensor([0]), torch.tensor([False]), torch.tensor([math.pi / 2]))
        >>> [round(v, 4) for v in out[0, :2].tolist()]
        [-2.0, 1.0]
    """
    x, y = points[:, 0].double(), points[:, 1].double()
    y = torch.where(mirror.to(points.device)[batch], -y, y)
    a = angle.to(points.device)[batch]
    cos, sin = torch.cos(a), torch.sin(a)
    xy = torch.stack([cos * x - sin * y, sin * x + cos * y], dim=1).to(points.dtype)
    return torch.cat([xy, points[:, 2:]], dim=1)
