"""Scan folders: list and check every scan up front, decode each one when it is asked for.

Only the file list stays in memory: a folder of any size pretrains in bounded memory,
the scans being read, validated and cropped in ``__getitem__`` (in the DataLoader
workers, ``data.num_workers``). Sizes and headers are checked before training starts
(:mod:`~modalities.lidar.headers`); a file that vanished or broke since then raises a
:class:`~jepa_core.modality.DataError` naming it when it is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from jepa_core.modality import DataError

from .headers import check_scan_file
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
    try:
        points, finite = read_scan(path, opts.bin_columns, opts.intensity_scale, with_mask=True)
    except OSError as e:  # vanished or unreadable since it was listed
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    inside = in_range(points, opts.point_range)
    if not inside.any():
        raise DataError(f"{path}: all {len(points)} points lie outside options.point_range "
                        f"{opts.point_range} (x0, y0, z0, x1, y1, z1)")
    rows = np.flatnonzero(finite)[inside]
    kept = np.zeros(len(finite), dtype=bool)
    kept[rows] = True
    return points[inside], kept


class ScanDataset(Dataset):
    """Scans read on demand; item ``i`` is ``{"points": [N_i, 4], "index": i}``.

    Args:
        files: scan files; their sizes and headers are checked here (see
            :func:`~modalities.lidar.headers.check_scan_file`), their points are read by
            ``__getitem__``.
        opts: reader options and range.

    Raises:
        DataError: here for a file whose size or header is wrong; from ``__getitem__``
            for one that cannot be decoded (NaN only, nothing in range), or that vanished
            or changed after it was listed.
    """

    def __init__(self, files: list[Path], opts: LidarOptions) -> None:
        self.files = list(files)
        self.opts = opts
        for f in self.files:
            check_scan_file(f, opts.bin_columns)

    def __len__(self) -> int:
        return len(self.files)

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Scan ``i`` cropped to the range, and the mask of its stored rows kept (for labels)."""
        return load_cropped(self.files[i], self.opts)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        points, _ = self.load(i)
        return {"points": torch.from_numpy(points), "index": torch.tensor(i, dtype=torch.long)}
