"""Labels for probing: class sub-folders (ImageFolder), a CSV, or a labels array in ``.npz`` files.

- ``--label folder``: the class is each image's first sub-folder (:func:`folder_labels`);
- ``--label FILE.csv``: columns ``path,label`` (paths relative to the data folder; an image
  of an array file is ``images.npy[3]``), or ``index,label`` for a single array file
  (:func:`csv_labels`);
- ``--label KEY``: images kept in ``.npz`` files carry their labels beside them, the array
  ``KEY`` (``labels``, ``y``) with one entry per image (:func:`array_labels`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_core.modality import DataError

from .readers import ImageItem, npz_image_key


def folder_labels(items: list[ImageItem], root: str | Path, noun: str = "images",
                  unit: str = "image") -> tuple[list[int], list[str], list[int]]:
    """Class of each item from its first sub-folder under ``root`` (ImageFolder layout).

    ``items`` need a ``path``; ``noun`` and ``unit`` name the files and the samples in
    messages (the audio plugin passes ``recordings`` and ``clip``).

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
                            f"{rel} directly (a flat folder): put each class's {noun} in "
                            f"{root}/<class>/, or pass --label labels.csv (columns path,label)")
        names.append(rel.parts[0])
    classes = sorted(set(names))
    check_class_sizes(names, unit)
    lookup = {c: i for i, c in enumerate(classes)}
    return list(range(len(items))), classes, [lookup[n] for n in names]


def check_class_sizes(labels: list, unit: str = "image") -> None:
    """Every class needs two samples (one each side of the held-out split) and two classes;
    ``unit`` names a sample in the message."""
    values, counts = np.unique(np.asarray(labels, dtype=object).astype(str), return_counts=True)
    if len(values) < 2:
        raise DataError(f"probing needs at least two classes, found only {values.tolist()}")
    small = values[counts < 2]
    if len(small):
        raise DataError(f"class {str(small[0])!r} has only one {unit}; every class needs at least 2 to be "
                        f"split into probe training and test parts ({len(small)} such class(es))")


def csv_labels(items: list[ImageItem], root: str | Path, csv: str | Path,
               task: str, unit: str = "image") -> tuple[list[int], list, np.ndarray]:
    """Labels from a CSV with columns ``path,label`` (paths relative to the data folder).

    An image of an array file is named ``PATH[i]`` (``images.npy[3]``); when the data is
    one array file, columns ``index,label`` (``i`` into that array) do as well. Only the
    listed images are probed. Returns ``(indices, classes, targets)``; for regression
    ``classes`` is empty and the targets are floats. ``unit`` names a sample in messages
    (the video plugin passes ``clip``).

    Raises:
        DataError: a missing column, an empty file, or a path that is not among the images.
    """
    import pandas as pd

    csv = Path(csv)
    try:
        frame = pd.read_csv(csv, dtype={"path": str})
    except (OSError, ValueError) as e:
        raise DataError(f"{csv}: cannot read the labels CSV ({e})") from None
    by_index = "index" in frame.columns and "path" not in frame.columns
    missing = [c for c in ("index" if by_index else "path", "label") if c not in frame.columns]
    if missing:
        raise DataError(f"{csv}: a labels CSV needs columns path,label; missing {missing} (found "
                        f"{list(frame.columns)}; data that is one array file may use index,label)")
    if frame.empty:
        raise DataError(f"{csv}: no rows")
    indices = _csv_indices(items, root, csv, frame, by_index, unit)
    return _targets(frame["label"], indices, task, str(csv))


def _a(unit: str) -> str:
    """``unit`` with its indefinite article: ``an image``, ``a clip``."""
    return f"{'an' if unit[0] in 'aeiou' else 'a'} {unit}"


def _csv_indices(items: list[ImageItem], root: str | Path, csv: Path, frame, by_index: bool,
                 unit: str = "image") -> list[int]:
    """The item of each CSV row, by ``path`` (``PATH[i]`` inside arrays) or ``index``."""
    root = Path(root)
    if by_index:
        files = {it.path for it in items}
        if len(files) != 1 or items[0].index < 0:
            raise DataError(f"{csv}: an index,label CSV is for data that is one array file "
                            f"(.npy/.npz); {root} holds {len(files)} file(s): use columns path,label")
        lookup = {it.index: i for i, it in enumerate(items)}
        indices = []
        for row, value in enumerate(frame["index"], start=2):
            try:
                indices.append(lookup[int(value)])
            except (KeyError, ValueError, TypeError):
                raise DataError(f"{csv}, line {row}: index {value!r} is not {_a(unit)} of {items[0].path} "
                                f"(0 .. {len(items) - 1})") from None
        return indices
    base = root if root.is_dir() else root.parent
    index = {}
    for i, it in enumerate(items):
        rel = Path(it.path).relative_to(base).as_posix()
        index[rel if it.index < 0 else f"{rel}[{it.index}]"] = i
    indices = []
    for row, rel in enumerate(frame["path"], start=2):
        key = Path(str(rel)).as_posix()
        if key not in index:
            inside = f"; an {unit} of an array file is NAME.npy[i]" if unit == "image" else ""
            raise DataError(f"{csv}, line {row}: {rel!r} is not {_a(unit)} under {base} (paths are "
                            f"relative to the data folder{inside})")
        indices.append(index[key])
    return indices


def array_labels(items: list[ImageItem], key: str, task: str) -> tuple[list[int], list, np.ndarray]:
    """Labels kept beside the images in their ``.npz`` files: array ``key``, one per image.

    Returns ``(indices, classes, targets)`` as :func:`csv_labels`.

    Raises:
        DataError: an image that is not in an ``.npz``, a file without ``key`` (listing
            the arrays it has), or a labels array that is not one entry per image.
    """
    import pandas as pd

    values, arrays = [], {}
    for it in items:
        if it.index < 0 or not it.path.lower().endswith(".npz"):
            raise DataError(f"--label {key} reads a labels array from .npz files, but {it.name} is "
                            "not in one: use --label folder or --label FILE.csv (path,label)")
        if it.path not in arrays:
            arrays[it.path] = _npz_labels(it.path, key)
        values.append(arrays[it.path][it.index])
    return _targets(pd.Series(values), list(range(len(items))), task, f"--label {key}")


def _npz_labels(path: str, key: str) -> np.ndarray:
    with np.load(path, allow_pickle=False) as z:
        if key not in z.files:
            raise DataError(f"{path}: no array {key!r} to take labels from (it has {z.files}); "
                            f"--label names the .npz array of labels, e.g. 'labels' or 'y'")
        labels = z[key]
        count = z[npz_image_key(z.files, path)].shape[0]
    if labels.ndim != 1 or len(labels) != count:
        raise DataError(f"{path}: labels array {key!r} has shape {tuple(labels.shape)}; expected "
                        f"[{count}], one label per image")
    return labels


def _targets(labels, indices: list[int], task: str, where: str) -> tuple[list[int], list, np.ndarray]:
    """``(indices, classes, targets)`` from a pandas Series of raw labels (CSV or array)."""
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise DataError(f"{where}, line {row + 2}: empty label" if where.endswith(".csv")
                        else f"{where}: label {row} is empty (NaN)")
    if task == "regression":
        try:
            return indices, [], labels.astype(float).to_numpy()
        except ValueError:
            raise DataError(f"{where}: --task regression needs numeric labels") from None
    names = labels.astype(str).tolist()
    check_class_sizes(names)
    classes = sorted(set(names))
    lookup = {c: i for i, c in enumerate(classes)}
    return indices, classes, np.array([lookup[n] for n in names])
