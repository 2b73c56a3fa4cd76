"""Tiny LiDAR data makers for the lidar tests (simulated and hand-written scans)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modalities.lidar.simulator import SensorSpec, write_dataset

#: A small sensor: few beams and azimuths keep every test fast.
TINY_SENSOR = SensorSpec(beams=16, azimuths=512)


def tiny_demo(root: Path, num_scans: int = 4, seed: int = 0) -> Path:
    """Simulated scans under ``root/velodyne`` with labels under ``root/labels``."""
    return write_dataset(root, num_scans, seed=seed, spec=TINY_SENSOR)


def parking_lot(rng: np.random.Generator, rows: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A hand-made scan of another layout: a flat lot with rows of cars and a wall.

    Points are sampled on surfaces (not ray-cast): ground everywhere, car boxes in a
    grid across the lot, a long wall at the far end; labels 1 ground, 2 car, 3 wall.

    Returns:
        ``[N, 4]`` float32 points and ``[N]`` int64 labels.
    """
    ground = np.c_[rng.uniform(0, 50, 6000), rng.uniform(-25, 25, 6000), np.full(6000, -1.7)]
    parts, labels = [ground], [np.full(6000, 1)]
    for cx in np.linspace(8, 40, rows):
        for cy in np.arange(-20, 21, 5.0):
            n = 120
            pts = np.c_[cx + rng.uniform(-2.2, 2.2, n), cy + rng.uniform(-0.9, 0.9, n),
                        rng.uniform(-1.5, -0.2, n)]
            parts.append(pts)
            labels.append(np.full(n, 2))
    wall = np.c_[np.full(1500, 47.0) + rng.normal(0, 0.05, 1500), rng.uniform(-25, 25, 1500),
                 rng.uniform(-1.7, 0.9, 1500)]
    parts.append(wall)
    labels.append(np.full(1500, 3))
    xyz = np.concatenate(parts)
    refl = rng.uniform(0, 1, (len(xyz), 1))
    return np.c_[xyz, refl].astype(np.float32), np.concatenate(labels).astype(np.int64)


def write_pcd(path: Path, points: np.ndarray, binary: bool = True,
              fields: str = "x y z intensity", types: str = "F F F F", sizes: str = "4 4 4 4",
              data: str | None = None) -> Path:
    """Write ``points`` as a PCD file (``DATA binary`` or ``ascii``; header parts overridable)."""
    kind = data or ("binary" if binary else "ascii")
    header = (f"# .PCD v0.7 - Point Cloud Data file format\nVERSION 0.7\nFIELDS {fields}\n"
              f"SIZE {sizes}\nTYPE {types}\nCOUNT {' '.join('1' for _ in fields.split())}\n"
              f"WIDTH {len(points)}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {len(points)}\n"
              f"DATA {kind}\n")
    with open(path, "wb") as f:
        f.write(header.encode("ascii"))
        if kind == "ascii":
            f.write("\n".join(" ".join(f"{v:.6f}" for v in row) for row in points).encode() + b"\n")
        else:
            f.write(np.ascontiguousarray(points, dtype="<f4").tobytes())
    return path


def write_las(path: Path, points: np.ndarray) -> Path:
    """Write ``points`` as a LAS 1.4 file (intensity scaled to uint16)."""
    import laspy

    header = laspy.LasHeader(point_format=0, version="1.4")
    header.scales = np.array([0.001, 0.001, 0.001])
    header.offsets = np.zeros(3)
    las = laspy.LasData(header)
    las.x, las.y, las.z = points[:, 0], points[:, 1], points[:, 2]
    las.intensity = (points[:, 3] * 65535).astype(np.uint16)
    las.write(str(path))
    return path
