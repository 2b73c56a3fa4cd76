"""Point-cloud and label readers: KITTI/nuScenes ``.bin``, ``.npy``, ``.pcd``, ``.las``/``.laz``.

Every reader returns ``[N, 4]`` float32 rows ``(x, y, z, intensity)`` in the sensor frame
(metres; intensity in [0, 1]). :func:`read_scan` dispatches on the suffix and validates:
an empty cloud is an error, NaN/inf rows are dropped with a warning (an error if nothing
is left). Labels (:func:`read_labels`) are SemanticKITTI ``.label`` files (uint32 per
point, semantic class in the low 16 bits, instance id in the high 16) or ``.npy``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from jepa_core.modality import DataError

from .pcd import read_pcd


def read_bin(path: str | Path, columns: int = 4) -> np.ndarray:
    """A raw float32 ``.bin`` with ``columns`` values per point (KITTI 4, nuScenes 5).

    Examples:
        >>> import tempfile, os
        >>> f = os.path.join(tempfile.mkdtemp(), "a.bin")
        >>> np.arange(8, dtype=np.float32).tofile(f)
        >>> read_bin(f).shape
        (2, 4)
    """
    path = Path(path)
    size = path.stat().st_size
    row = 4 * columns
    if size % row:
        raise DataError(f"{path}: {size} bytes is not a multiple of the {row}-byte row "
                        f"({columns} float32 columns; set options.bin_columns for another layout)")
    flat = np.fromfile(path, dtype="<f4")
    _check_bin_layout(path, flat, columns)
    return _xyzi(flat.reshape(-1, columns))


#: Column counts tried when a ``.bin`` file's intensities look wrong (KITTI 4, nuScenes 5, ...).
BIN_LAYOUTS = range(4, 9)
#: Share of intensities that may fall outside [0, 65535] before a layout looks wrong.
IMPLAUSIBLE_SHARE = 0.01


def _implausible_share(values: np.ndarray) -> float:
    """Share of the finite ``values`` that no sensor writes as an intensity (< 0 or > 65535)."""
    values = values[np.isfinite(values)]
    return float(((values < 0) | (values > 65535)).mean()) if values.size else 0.0


def _check_bin_layout(path: Path, flat: np.ndarray, columns: int) -> None:
    """Catch a ``.bin`` read with the wrong column count whose size happens to divide.

    Read with too few or too many columns, every column cycles through x, y, z and the
    rest, so the intensity column takes negative heights: a DataError when another
    column count reads plausibly (a nuScenes file read as KITTI), else a warning.
    """
    if columns < 4 or flat.size < columns:
        return
    share = _implausible_share(flat.reshape(-1, columns)[:, 3])
    if share <= IMPLAUSIBLE_SHARE:
        return
    fits = [c for c in BIN_LAYOUTS if c != columns and flat.size % c == 0
            and _implausible_share(flat.reshape(-1, c)[:, 3]) <= IMPLAUSIBLE_SHARE]
    what = (f"{path}: read as {columns} float32 values per point (options.bin_columns), "
            f"{share:.0%} of the intensities (4th values) are negative or above 65535")
    if fits:
        raise DataError(f"{what}; the file reads plausibly with {fits[0]} values per point "
                        f"(nuScenes .bin files have 5): set options.bin_columns={fits[0]}")
    warnings.warn(f"{what}; if the file has another layout, set options.bin_columns", stacklevel=3)


def read_npy(path: str | Path) -> np.ndarray:
    """An ``.npy`` array ``[N, 3+]``: x, y, z and optionally intensity in column 3."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as e:
        raise DataError(f"{path}: not a readable .npy array: {e}") from None
    if data.ndim != 2 or data.shape[1] < 3 or not np.issubdtype(data.dtype, np.number):
        raise DataError(f"{path}: expected a numeric [N, 3+] array (x, y, z[, intensity]), "
                        f"got {data.dtype} {data.shape}")
    return _xyzi(data)


def read_las(path: str | Path) -> np.ndarray:
    """A ``.las``/``.laz`` file through the optional ``laspy`` dependency (scaled x, y, z)."""
    path = Path(path)
    try:
        import laspy
    except ImportError:
        raise DataError(f"{path}: reading .las/.laz needs laspy: pip install 'jepa-core[lidar]'") from None
    try:
        las = laspy.read(str(path))
    except Exception as e:  # laspy raises several unrelated types for bad files
        raise DataError(f"{path}: not a readable LAS/LAZ file: {type(e).__name__}: {e}") from None
    inten = np.asarray(las.intensity, dtype=np.float64) if "intensity" in las.point_format.dimension_names \
        else np.zeros(len(las.x))
    return _xyzi(np.stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z), inten], axis=1))


def _xyzi(data: np.ndarray) -> np.ndarray:
    out = np.zeros((len(data), 4), dtype=np.float32)
    out[:, :3] = data[:, :3]
    if data.shape[1] > 3:
        out[:, 3] = data[:, 3]
    return out


def _scale_intensity(points: np.ndarray, scale: float | None) -> None:
    inten = points[:, 3]
    if scale is None:
        top = float(np.nanmax(inten)) if len(inten) else 0.0
        scale = 1.0 if top <= 1.0 else 255.0 if top < 256.0 else 65535.0
    if scale != 1.0:
        points[:, 3] = inten / scale


def read_scan(path: str | Path, bin_columns: int = 4, intensity_scale: float | None = None,
              with_mask: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Read and validate one scan, dispatching on its suffix.

    Args:
        path: a ``.bin``, ``.npy``, ``.pcd``, ``.las`` or ``.laz`` file.
        bin_columns: float32 columns per point in ``.bin`` files.
        intensity_scale: divide intensities by this (``None``: pick from the value range).
        with_mask: also return which stored rows were kept (to filter labels alike).

    Returns:
        ``[N, 4]`` float32 (x, y, z, intensity) with every row finite; with ``with_mask``
        also the ``[N_stored]`` bool mask of kept rows.

    Raises:
        DataError: unknown suffix, malformed file, an empty cloud, nothing finite.
    """
    points = read_raw(path, bin_columns)
    kept, mask = validate_points(points, path, intensity_scale)
    return (kept, mask) if with_mask else kept


def read_raw(path: str | Path, bin_columns: int = 4) -> np.ndarray:
    """The stored rows of one scan as ``[N, 4]`` float32, unvalidated."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".bin":
        points = read_bin(path, bin_columns)
    elif suffix == ".npy":
        points = read_npy(path)
    elif suffix == ".pcd":
        points = read_pcd(path)
    elif suffix in (".las", ".laz"):
        points = read_las(path)
    else:
        raise DataError(f"{path}: unknown scan format {suffix!r}; expected .bin, .npy, .pcd, .las, .laz")
    return points


def validate_points(points: np.ndarray, path: str | Path,
                    intensity_scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Reject empty clouds, drop non-finite rows with a warning, scale intensity.

    Returns:
        The finite rows, float32 ``[N, 4]``, and the ``[N_stored]`` bool mask of them.
    """
    if len(points) == 0:
        raise DataError(f"{path}: the point cloud is empty (0 points)")
    finite = np.isfinite(points).all(axis=1)
    if not finite.all():
        bad = int((~finite).sum())
        if bad == len(points):
            raise DataError(f"{path}: all {bad} points have NaN or inf values; nothing is left")
        warnings.warn(f"{path}: dropped {bad} of {len(points)} points with NaN or inf values",
                      stacklevel=2)
        points = points[finite]
    points = np.ascontiguousarray(points, dtype=np.float32)
    _scale_intensity(points, intensity_scale)
    return points, finite


def read_labels(path: str | Path, num_points: int | None = None,
                scan: str | Path | None = None) -> np.ndarray:
    """Per-point semantic labels from a SemanticKITTI ``.label`` or an ``.npy`` file.

    Args:
        path: the label file.
        num_points: the scan's point count *as stored in the file* (before NaN rows are
            dropped); a different count is an error.
        scan: the scan file, named in the error message.

    Returns:
        ``[N]`` int64 labels (``.label``: the low 16 bits, the semantic class).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".label":
        size = path.stat().st_size
        if size % 4:
            raise DataError(f"{path}: {size} bytes is not a multiple of 4 (uint32 per point)")
        labels = (np.fromfile(path, dtype="<u4") & 0xFFFF).astype(np.int64)
    elif suffix == ".npy":
        try:
            labels = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as e:
            raise DataError(f"{path}: not a readable .npy array: {e}") from None
        if labels.ndim != 1 and not (labels.ndim == 2 and labels.shape[1] == 1):
            raise DataError(f"{path}: expected labels of shape [N], got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"{path}: expected integer labels, got {labels.dtype}")
        labels = labels.reshape(-1).astype(np.int64)
    else:
        raise DataError(f"{path}: unknown label format {suffix!r}; expected .label or .npy")
    if num_points is not None and len(labels) != num_points:
        raise DataError(f"{path}: {len(labels)} labels but the scan {scan or ''} has {num_points} points")
    return labels
