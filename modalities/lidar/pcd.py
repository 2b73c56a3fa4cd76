"""Reader for Point Cloud Library ``.pcd`` files (ASCII and binary ``DATA``).

The header is a list of ``KEY value...`` lines (``VERSION``, ``FIELDS``, ``SIZE``,
``TYPE``, ``COUNT``, ``WIDTH``, ``HEIGHT``, ``VIEWPOINT``, ``POINTS``) ending with
``DATA ascii|binary|binary_compressed``. ``TYPE`` is ``I`` (signed), ``U`` (unsigned) or
``F`` (float) with ``SIZE`` bytes; ``COUNT`` elements per field. ``binary_compressed``
(LZF) is not supported: re-save the cloud as ``binary`` or ``ascii``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from jepa_core.modality import DataError

_TYPES = {("I", 1): "i1", ("I", 2): "i2", ("I", 4): "i4", ("I", 8): "i8",
          ("U", 1): "u1", ("U", 2): "u2", ("U", 4): "u4", ("U", 8): "u8",
          ("F", 4): "f4", ("F", 8): "f8"}
_INTENSITY = ("intensity", "reflectance", "remission", "i")


def _parse_header(raw: bytes, path: Path) -> tuple[dict[str, list[str]], int]:
    header: dict[str, list[str]] = {}
    pos = 0
    while True:
        end = raw.find(b"\n", pos)
        if end < 0:
            raise DataError(f"{path}: PCD header has no DATA line")
        line = raw[pos:end].decode("ascii", errors="replace").strip()
        pos = end + 1
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        header[key.upper()] = values
        if key.upper() == "DATA":
            return header, pos


def _dtype(header: dict[str, list[str]], path: Path) -> np.dtype:
    fields = header.get("FIELDS")
    if not fields:
        raise DataError(f"{path}: PCD header has no FIELDS line")
    sizes = header.get("SIZE", [])
    types = header.get("TYPE", [])
    counts = header.get("COUNT", ["1"] * len(fields))
    if not (len(sizes) == len(types) == len(counts) == len(fields)):
        raise DataError(f"{path}: PCD header FIELDS/SIZE/TYPE/COUNT have different lengths "
                        f"({len(fields)}/{len(sizes)}/{len(types)}/{len(counts)})")
    parts = []
    for i, (name, size, kind, count) in enumerate(zip(fields, sizes, types, counts)):
        code = _TYPES.get((kind.upper(), int(size)))
        if code is None:
            raise DataError(f"{path}: PCD field {name!r} has unsupported TYPE {kind} SIZE {size}; "
                            f"expected I/U with size 1/2/4/8 or F with size 4/8")
        n = int(count)
        parts.append((f"f{i}_{name}", "<" + code, (n,)) if n > 1 else (f"f{i}_{name}", "<" + code))
    return np.dtype(parts)


def _point_count(header: dict[str, list[str]], path: Path) -> int | None:
    """``POINTS`` (else ``WIDTH * HEIGHT``) of the header, or ``None`` when it has neither."""
    try:
        if "POINTS" in header:
            return int(header["POINTS"][0])
        if "WIDTH" in header:
            return int(header["WIDTH"][0]) * int(header.get("HEIGHT", ["1"])[0])
    except (IndexError, ValueError):
        raise DataError(f"{path}: PCD header POINTS/WIDTH/HEIGHT is not a whole number "
                        f"(POINTS {header.get('POINTS')}, WIDTH {header.get('WIDTH')}, "
                        f"HEIGHT {header.get('HEIGHT')})") from None
    return None


def read_pcd(path: str | Path) -> np.ndarray:
    """Read a ``.pcd`` file into ``[N, 4]`` float32 (x, y, z, intensity or 0).

    Raises:
        DataError: a malformed header, an unsupported field type, compressed data, a
            missing x/y/z field, or fewer data bytes (binary) or another number of rows
            (ascii) than the header promises.
    """
    path = Path(path)
    raw = path.read_bytes()
    header, offset = _parse_header(raw, path)
    kind = header["DATA"][0].lower() if header["DATA"] else ""
    dtype = _dtype(header, path)
    names = [n.split("_", 1)[1].lower() for n in dtype.names]
    if not {"x", "y", "z"} <= set(names):
        raise DataError(f"{path}: PCD FIELDS {header['FIELDS']} lack one of x, y, z")
    n_points = _point_count(header, path)
    if kind == "binary_compressed":
        raise DataError(f"{path}: PCD DATA binary_compressed is not supported; "
                        f"save it as DATA binary or ascii")
    if kind == "binary":
        if n_points is None:
            raise DataError(f"{path}: PCD header has neither POINTS nor WIDTH; binary data "
                            f"needs the point count")
        need = n_points * dtype.itemsize
        if len(raw) - offset < need:
            raise DataError(f"{path}: PCD promises {n_points} points ({need} bytes) but holds "
                            f"{len(raw) - offset} data bytes")
        table = np.frombuffer(raw, dtype=dtype, count=n_points, offset=offset)
    elif kind == "ascii":
        widths = [max(1, int(np.prod(dtype.fields[n][0].shape))) for n in dtype.names]
        text = raw[offset:].decode("ascii", errors="replace")
        if not text.strip():
            return np.zeros((0, 4), dtype=np.float32)
        try:
            values = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2)
        except ValueError as e:
            raise DataError(f"{path}: PCD ascii data is malformed: {e}") from None
        if values.shape[1] != sum(widths):
            raise DataError(f"{path}: PCD ascii rows have {values.shape[1]} values, "
                            f"header says {sum(widths)}")
        if n_points is not None and len(values) != n_points:
            raise DataError(f"{path}: PCD header promises {n_points} points but the ascii data "
                            f"holds {len(values)} rows (a truncated or edited file?)")
        starts = np.cumsum([0] + widths[:-1])
        table = {n: values[:, s] for n, s in zip(dtype.names, starts)}
    else:
        raise DataError(f"{path}: PCD DATA {kind!r} is not one of ascii, binary")
    column = {name: full for name, full in zip(names, dtype.names)}
    get = (lambda n: np.asarray(table[column[n]], dtype=np.float32).reshape(len(table[column[n]]), -1)[:, 0])
    out = [get("x"), get("y"), get("z")]
    key = next((k for k in _INTENSITY if k in column), None)
    out.append(get(key) if key else np.zeros_like(out[0]))
    return np.stack(out, axis=1)
