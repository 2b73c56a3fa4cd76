"""Labels for probing: class sub-folders (ImageFolder) or a ``labels.csv`` of path,label."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_core.modality import DataError

from .readers import ImageItem


def folder_labels(items: list[ImageItem], root: str | Path) -> tuple[list[int], list[str], list[int]]:
    """Class of each item from its first sub-folder under ``root`` (ImageFolder layout).

    Returns:
        ``(indices, classes, targets)``: the items used (all of them), the sorted class
        names and each item's class id.

    Raises:
        DataError: a flat folder (no class sub-folders), an image directly in ``root``
            beside class folders, or a class with fewer than two images.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"--label folder needs a folder of class sub-folders; {root} is a file")
    names = []
    for it in items:
        rel = Path(it.path).relative_to(root)
        if len(rel.parts) < 2:
            raise DataError(f"--label folder reads the class from the sub-folder, but {root} holds "
                            f"{rel} directly (a flat folder): put each class's images in "
                            f"{root}/<class>/, or pass --label labels.csv (columns path,label)")
        names.append(rel.parts[0])
    classes = sorted(set(names))
    check_class_sizes(names)
    lookup = {c: i for i, c in enumerate(classes)}
    return list(range(len(items))), classes, [lookup[n] for n in names]


def check_class_sizes(labels: list) -> None:
    """Every class needs two samples (one each side of the held-out split) and two classes."""
    values, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    if len(values) < 2:
        raise DataError(f"probing needs at least two classes, found only {values.tolist()}")
    small = values[counts < 2]
    if len(small):
        raise DataError(f"class {str(small[0])!r} has only one image; every class needs at least 2 to be "
                        f"split into probe training and test parts ({len(small)} such class(es))")


def csv_labels(items: list[ImageItem], root: str | Path, csv: str | Path,
               task: str) -> tuple[list[int], list, np.ndarray]:
    """Labels from a CSV with columns ``path,label`` (paths relative to the data folder).

    Only the listed images are probed. Returns ``(indices, classes, targets)``; for
    regression ``classes`` is empty and the targets are floats.

    Raises:
        DataError: a missing column, an empty file, or a path that is not among the images.
    """
    import pandas as pd

    csv = Path(csv)
    try:
        frame = pd.read_csv(csv, dtype={"path": str})
    except (OSError, ValueError) as e:
        raise DataError(f"{csv}: cannot read the labels CSV ({e})") from None
    missing = [c for c in ("path", "label") if c not in frame.columns]
    if missing:
        raise DataError(f"{csv}: a labels CSV needs columns path,label; missing {missing} "
                        f"(found {list(frame.columns)})")
    if frame.empty:
        raise DataError(f"{csv}: no rows")
    root = Path(root)
    base = root if root.is_dir() else root.parent
    index = {Path(it.path).relative_to(base).as_posix(): i for i, it in enumerate(items) if it.index < 0}
    indices = []
    for row, rel in enumerate(frame["path"], start=2):
        key = Path(str(rel)).as_posix()
        if key not in index:
            raise DataError(f"{csv}, line {row}: {rel!r} is not an image under {base} (paths are "
                            "relative to the data folder)")
        indices.append(index[key])
    labels = frame["label"]
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0]) + 2
        raise DataError(f"{csv}, line {row}: empty label")
    if task == "regression":
        try:
            return indices, [], labels.astype(float).to_numpy()
        except ValueError:
            raise DataError(f"{csv}: --task regression needs numeric labels") from None
    names = labels.astype(str).tolist()
    check_class_sizes(names)
    classes = sorted(set(names))
    lookup = {c: i for i, c in enumerate(classes)}
    return indices, classes, np.array([lookup[n] for n in names])
