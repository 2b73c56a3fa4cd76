"""A spinning multi-beam LiDAR ray-cast into procedural scenes; writes KITTI ``.bin`` + ``.label``.

The sensor fires ``beams`` lasers at fixed elevations (spread like a Velodyne HDL-64E,
-24.8 to +2 degrees, by default) at ``azimuths`` angles over a full turn. Each ray is
intersected with every primitive of a :class:`~modalities.lidar.scene.Scene` at once
(arrays ``[rays, primitives]``); the nearest hit within ``max_range`` returns a point,
with Gaussian range noise, random dropouts and a per-class reflectance. Points are
written as KITTI velodyne scans (float32 x, y, z, reflectance) and SemanticKITTI labels
(uint32: instance << 16 | class).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .scene import REFLECTANCE, Scene, street_scene


@dataclass
class SensorSpec:
    """A spinning LiDAR: beam elevations, horizontal resolution, range model."""

    beams: int = 32
    elevation: tuple[float, float] = (-24.8, 2.0)
    azimuths: int = 1024
    max_range: float = 80.0
    range_noise: float = 0.02
    dropout: float = 0.05
    height: float = 1.73


def _rays(spec: SensorSpec) -> np.ndarray:
    el = np.deg2rad(np.linspace(spec.elevation[0], spec.elevation[1], spec.beams))
    az = np.linspace(-np.pi, np.pi, spec.azimuths, endpoint=False)
    el, az = np.meshgrid(el, az, indexing="ij")
    return np.stack([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)], -1).reshape(-1, 3)


def _hit_boxes(d: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """``[R, K]`` distance to oriented boxes (inf for a miss), slab test in each box frame."""
    if not len(boxes):
        return np.full((len(d), 0), np.inf)
    c, s = np.cos(-boxes[:, 6]), np.sin(-boxes[:, 6])
    ox, oy = -boxes[:, 0], -boxes[:, 1]  # ray origin (sensor at 0) in the box frame
    o = np.stack([c * ox - s * oy, s * ox + c * oy, -boxes[:, 2]], -1)  # [K, 3]
    dl = np.stack([d[:, None, 0] * c - d[:, None, 1] * s, d[:, None, 0] * s + d[:, None, 1] * c,
                   np.broadcast_to(d[:, None, 2], (len(d), len(boxes)))], -1)  # [R, K, 3]
    half = boxes[:, 3:6] / 2
    lo = np.stack([-half[:, 0], -half[:, 1], np.zeros(len(boxes))], -1)
    hi = np.stack([half[:, 0], half[:, 1], boxes[:, 5]], -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(np.abs(dl) < 1e-12, 1e-12, dl)
        t1, t2 = (lo - o) * inv, (hi - o) * inv
    tmin = np.minimum(t1, t2).max(-1)
    tmax = np.maximum(t1, t2).min(-1)
    hit = (tmax >= np.maximum(tmin, 0)) & (tmin > 0)
    return np.where(hit, tmin, np.inf)


def _hit_cylinders(d: np.ndarray, cyl: np.ndarray) -> np.ndarray:
    """``[R, K]`` distance to the side of vertical cylinders (inf for a miss)."""
    if not len(cyl):
        return np.full((len(d), 0), np.inf)
    dx, dy = d[:, None, 0], d[:, None, 1]
    a = dx ** 2 + dy ** 2
    b = -2 * (dx * cyl[:, 0] + dy * cyl[:, 1])
    cc = cyl[:, 0] ** 2 + cyl[:, 1] ** 2 - cyl[:, 2] ** 2
    disc = b ** 2 - 4 * a * cc
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (-b - np.sqrt(disc)) / (2 * a)
    z = t * d[:, None, 2]
    hit = (disc >= 0) & (t > 0) & (z >= cyl[:, 3]) & (z <= cyl[:, 4])
    return np.where(hit, t, np.inf)


def _hit_spheres(d: np.ndarray, sph: np.ndarray) -> np.ndarray:
    """``[R, K]`` distance to spheres (inf for a miss)."""
    if not len(sph):
        return np.full((len(d), 0), np.inf)
    b = -2 * d @ sph[:, :3].T
    cc = (sph[:, :3] ** 2).sum(-1) - sph[:, 3] ** 2
    disc = b ** 2 - 4 * cc
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(disc)) / 2
    return np.where((disc >= 0) & (t > 0), t, np.inf)


def cast(scene: Scene, spec: SensorSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ray-cast one sweep.

    Returns:
        ``[N, 4]`` float32 (x, y, z, reflectance) and ``[N]`` uint32 labels
        (instance << 16 | SemanticKITTI class).
    """
    d = _rays(spec)
    with np.errstate(divide="ignore"):
        t_ground = np.where(d[:, 2] < -1e-6, scene.ground_z / np.minimum(d[:, 2], -1e-6), np.inf)
    dist = np.concatenate([t_ground[:, None], _hit_boxes(d, scene.boxes),
                           _hit_cylinders(d, scene.cylinders), _hit_spheres(d, scene.spheres)], 1)
    which = dist.argmin(1)
    t = dist[np.arange(len(d)), which]
    keep = (t < spec.max_range) & (rng.random(len(d)) >= spec.dropout)
    d, t, which = d[keep], t[keep], which[keep]
    xyz = d * (t + rng.normal(0, spec.range_noise, len(t)))[:, None]
    labels = np.concatenate([scene.box_label, scene.cylinder_label, scene.sphere_label])
    cls = np.where(which == 0, scene.ground_label(xyz[:, 1]), labels[np.maximum(which - 1, 0)])
    instance = np.where(which == 0, 0, which)
    table = np.zeros(max(REFLECTANCE) + 1)
    for k, v in REFLECTANCE.items():
        table[k] = v
    refl = np.clip(table[cls] * (1 - 0.3 * t / spec.max_range) + rng.normal(0, 0.05, len(t)), 0, 1)
    points = np.concatenate([xyz, refl[:, None]], 1).astype(np.float32)
    return points, ((instance.astype(np.uint32) << 16) | cls.astype(np.uint32))


def write_dataset(root: str | Path, num_scans: int, seed: int = 0,
                  spec: SensorSpec | None = None) -> Path:
    """Write ``root/velodyne/NNNNNN.bin`` and ``root/labels/NNNNNN.label`` for ``num_scans`` scenes.

    Returns:
        ``root``.

    Examples:
        >>> import tempfile
        >>> root = write_dataset(tempfile.mkdtemp(), 1, spec=SensorSpec(beams=8, azimuths=64))
        >>> sorted(p.name for p in root.rglob("*.*"))
        ['000000.bin', '000000.label']
    """
    spec = spec or SensorSpec()
    root = Path(root)
    (root / "velodyne").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    for i in range(num_scans):
        rng = np.random.default_rng([seed, i])
        points, labels = cast(street_scene(rng, spec.height), spec, rng)
        points.tofile(root / "velodyne" / f"{i:06d}.bin")
        labels.astype("<u4").tofile(root / "labels" / f"{i:06d}.label")
    return root
