"""Labels for probing clips: class sub-folders, or a CSV of ``path,label`` per recording.

A recording's label goes to every clip cut from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_core.modality import DataError

from .readers import AudioItem


def check_class_sizes(labels: list) -> None:
    """Every class needs two clips (one each side of the held-out split), and two classes."""
    values, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    if len(values) < 2:
        raise DataError(f"probing needs at least two classes, found only {values.tolist()}")
    small = values[counts < 2]
    if len(small):
        raise DataError(f"class {str(small[0])!r} has only one clip; every class needs at least 2 to be "
                        f"split into probe training and test parts ({len(small)} such class(es))")


def _ids(names: list[str]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(sorted(set(names)))}
    return np.array([lookup[n] for n in names])


def folder_labels(items: list[AudioItem], root: str | Path) -> tuple[list[int], np.ndarray]:
    """Class of each clip from its recording's first sub-folder under ``root``.

    Returns:
        ``(indices, targets)``: all clips, and each clip's class id (classes sorted by name).

    Raises:
        DataError: a flat folder, a recording directly in ``root``, or a class of one clip.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"--label folder needs a folder of class sub-folders; {root} is a file")
    names = []
    for it in items:
        rel = Path(it.path).relative_to(root)
        if len(rel.parts) < 2:
            raise DataError(f"--label folder reads the class from the sub-folder, but {root} holds "
                            f"{rel} directly (a flat folder): put each class's recordings in "
                            f"{root}/<class>/, or pass --label labels.csv (columns path,label)")
        names.append(rel.parts[0])
    check_class_sizes(names)
    return list(range(len(items))), _ids(names)


def csv_labels(items: list[AudioItem], root: str | Path, csv: str | Path,
               task: str) -> tuple[list[int], np.ndarray]:
    """Labels from a CSV with columns ``path,label`` (paths relative to the data folder).

    Only the clips of listed recordings are probed.

    Raises:
        DataError: a missing column, an empty file, an empty label, or a path that is
            not among the recordings.
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
    clips: dict[str, list[int]] = {}
    for i, it in enumerate(items):
        clips.setdefault(Path(it.path).relative_to(base).as_posix(), []).append(i)
    indices, labels = [], []
    for row, (rel, label) in enumerate(zip(frame["path"], frame["label"]), start=2):
        key = Path(str(rel)).as_posix()
        if key not in clips:
            raise DataError(f"{csv}, line {row}: {rel!r} is not a recording under {base} (paths are "
                            "relative to the data folder)")
        if label is None or (isinstance(label, float) and np.isnan(label)):
            raise DataError(f"{csv}, line {row}: empty label")
        indices += clips[key]
        labels += [label] * len(clips[key])
    if task == "regression":
        try:
            return indices, np.asarray(labels, dtype=float)
        except ValueError:
            raise DataError(f"{csv}: --task regression needs numeric labels") from None
    names = [str(v) for v in labels]
    check_class_sizes(names)
    return indices, _ids(names)
