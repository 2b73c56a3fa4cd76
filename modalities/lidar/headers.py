"""Cheap checks of scan files before training: sizes and headers, no point decoding.

A folder of scans is listed and checked up front with these, so the usual mistakes (a
truncated ``.bin``, an ``.npy`` of the wrong shape, a compressed ``.pcd``, an empty file)
are reported before training starts, while the points themselves are decoded later, one
scan at a time, in the DataLoader workers. What only decoding can show (NaN rows, every
point outside the range) is reported when the scan is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_core.modality import DataError

from .pcd import _dtype, _parse_header, _point_count

#: Bytes read to find the end of a ``.pcd`` header.
PCD_HEADER_BYTES = 1 << 16


def check_scan_file(path: Path, bin_columns: int = 4) -> None:
    """Raise :class:`DataError` when ``path`` cannot be a readable scan, from its size and header.

    Args:
        path: a ``.bin``, ``.npy``, ``.pcd``, ``.las`` or ``.laz`` file.
        bin_columns: float32 columns per point in ``.bin`` files.

    Examples:
        >>> import tempfile, os
        >>> f = Path(tempfile.mkdtemp()) / "a.bin"
        >>> np.zeros(6, dtype=np.float32).tofile(f)
        >>> try:
        ...     check_scan_file(f)
        ... except DataError as e:
        ...     print(str(e).split(": ", 1)[1].split(" (")[0])
        24 bytes is not a multiple of the 16-byte row
    """
    try:
        size = path.stat().st_size
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    suffix = path.suffix.lower()
    if suffix == ".bin":
        row = 4 * bin_columns
        if size % row:
            raise DataError(f"{path}: {size} bytes is not a multiple of the {row}-byte row "
                            f"({bin_columns} float32 columns; set options.bin_columns for another layout)")
        if size == 0:
            raise DataError(f"{path}: the point cloud is empty (0 points)")
    elif suffix == ".npy":
        _check_npy(path, size)
    elif suffix == ".pcd":
        _check_pcd(path, size)
    elif suffix in (".las", ".laz"):
        _check_las(path)
    else:
        raise DataError(f"{path}: unknown scan format {suffix!r}; expected .bin, .npy, .pcd, .las, .laz")


def _check_npy(path: Path, size: int) -> None:
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(f)
            data_bytes = size - f.tell()
    except (ValueError, OSError) as e:
        raise DataError(f"{path}: not a readable .npy array: {e}") from None
    if len(shape) != 2 or shape[1] < 3 or not np.issubdtype(dtype, np.number):
        raise DataError(f"{path}: expected a numeric [N, 3+] array (x, y, z[, intensity]), "
                        f"got {dtype} {shape}")
    if shape[0] == 0:
        raise DataError(f"{path}: the point cloud is empty (0 points)")
    need = int(np.prod(shape)) * dtype.itemsize
    if data_bytes < need:
        raise DataError(f"{path}: not a readable .npy array: the header promises {shape} "
                        f"({need} bytes) but the file holds {data_bytes} data bytes")


def _check_pcd(path: Path, size: int) -> None:
    try:
        with open(path, "rb") as f:
            head = f.read(PCD_HEADER_BYTES)
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})") from None
    header, offset = _parse_header(head, path)
    kind = header["DATA"][0].lower() if header["DATA"] else ""
    dtype = _dtype(header, path)
    names = {n.split("_", 1)[1].lower() for n in dtype.names}
    if not {"x", "y", "z"} <= names:
        raise DataError(f"{path}: PCD FIELDS {header['FIELDS']} lack one of x, y, z")
    if kind == "binary_compressed":
        raise DataError(f"{path}: PCD DATA binary_compressed is not supported; "
                        f"save it as DATA binary or ascii")
    if kind not in ("binary", "ascii"):
        raise DataError(f"{path}: PCD DATA {kind!r} is not one of ascii, binary")
    if kind == "binary":
        n_points = _point_count(header, path)
        if n_points is None:
            raise DataError(f"{path}: PCD header has neither POINTS nor WIDTH; binary data "
                            f"needs the point count")
        need = n_points * dtype.itemsize
        if size - offset < need:
            raise DataError(f"{path}: PCD promises {n_points} points ({need} bytes) but holds "
                            f"{size - offset} data bytes")


def _check_las(path: Path) -> None:
    try:
        import laspy
    except ImportError:
        raise DataError(f"{path}: reading .las/.laz needs laspy: pip install 'jepa-core[lidar]'") from None
    try:
        with laspy.open(str(path)) as f:
            count = f.header.point_count
    except Exception as e:  # laspy raises several unrelated types for bad files
        raise DataError(f"{path}: not a readable LAS/LAZ file: {type(e).__name__}: {e}") from None
    if count == 0:
        raise DataError(f"{path}: the point cloud is empty (0 points)")
