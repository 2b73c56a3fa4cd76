"""Scan folders: find, read, validate and crop every scan before training starts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from jepa_core.modality import DataError

from .options import LidarOptions
from .readers import read_scan


def find_scans(path: str | Path, extensions: list[str]) -> list[Path]:
    """Scan files under ``path`` (a file, or a folder searched recursively), sorted.

    Raises:
        DataError: the path does not exist or holds no file with a scan suffix.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    exts = {e.lower() for e in extensions}
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in exts)
    if not files:
        raise DataError(f"{path}: the folder holds no readable scans (files ending in "
                        f"{', '.join(sorted(exts))})")
    return files


def in_range(points: np.ndarray, point_range: list[float]) -> np.ndarray:
    """``[N]`` bool: rows inside ``[x0, y0, z0, x1, y1, z1)`` (same rule as the pillarizer)."""
    lo, hi = np.asarray(point_range[:3]), np.asarray(point_range[3:])
    return ((points[:, :3] >= lo) & (points[:, :3] < hi)).all(axis=1)


def load_cropped(path: Path, opts: LidarOptions) -> tuple[np.ndarray, np.ndarray]:
    """Read one scan and crop it to the range.

    Returns:
        ``[N, 4]`` float32 points in range and the ``[N_stored]`` bool mask of the stored
        rows they came from (for aligning labels).

    Raises:
        DataError: any reader error, or no point inside ``options.point_range``.
    """
    points, finite = read_scan(path, opts.bin_columns, opts.intensity_scale, with_mask=True)
    inside = in_range(points, opts.point_range)
    if not inside.any():
        raise DataError(f"{path}: all {len(points)} points lie outside options.point_range "
                        f"{opts.point_range} (x0, y0, z0, x1, y1, z1)")
    rows = np.flatnonzero(finite)[inside]
    kept = np.zeros(len(finite), dtype=bool)
    kept[rows] = True
    return points[inside], kept


class ScanDataset(Dataset):
    """Cropped scans held in memory; item ``i`` is ``{"points": [N_i, 4], "index": i}``.

    Args:
        files: scan files, all read and validated here.
        opts: reader options and range.
    """

    def __init__(self, files: list[Path], opts: LidarOptions) -> None:
        self.files = list(files)
        self.opts = opts
        self.masks: list[np.ndarray] = []
        self.points: list[Tensor] = []
        for f in self.files:
            pts, kept = load_cropped(f, opts)
            self.points.append(torch.from_numpy(pts))
            self.masks.append(kept)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        return {"points": self.points[i], "index": torch.tensor(i, dtype=torch.long)}
