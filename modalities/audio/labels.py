"""Labels for probing clips: class sub-folders, or a CSV of ``path,label`` per recording.

A recording's label goes to every clip cut from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_core.modality import DataError
from modalities.image.labels import check_class_sizes
from modalities.image.labels import folder_labels as image_folder_labels

from .readers import AudioItem


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
    indices, _, targets = image_folder_labels(items, root, noun="recordings", unit="clip")
    return indices, np.asarray(targets)


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
    check_class_sizes(names, unit="clip")
    return indices, _ids(names)
