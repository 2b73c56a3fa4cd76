"""Probe targets and the raw-feature baseline, per BEV token.

A token's target is the majority class of the labelled points in its ``patch x patch``
cells (``-1`` where it holds none). The baseline features are pillar statistics pooled
per token with ``scatter`` (:mod:`.scatter`): occupied-cell fraction, log point count,
z mean / min / max / std and mean intensity.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from jepa_core.modality import DataError

from .options import LidarOptions
from .pillars import cell_index
from .readers import read_labels
from .scatter import scatter

#: Names of the baseline's per-token features.
RAW_FEATURES = ("occupied", "log_points", "z_mean", "z_min", "z_max", "z_std", "intensity")


def token_index(points: torch.Tensor, opts: LidarOptions) -> torch.Tensor:
    """``[N]`` row-major token of each in-range point on the ``(H', W')`` grid."""
    _, w = opts.grid_size()
    cell = cell_index(points, opts)
    return (cell // w // opts.patch) * (w // opts.patch) + (cell % w) // opts.patch


def majority_labels(tokens: np.ndarray, labels: np.ndarray, num_tokens: int,
                    ignore: list[int]) -> np.ndarray:
    """``[num_tokens]`` int64 majority label per token, ``-1`` where it has none.

    Examples:
        >>> majority_labels(np.array([0, 0, 0, 2]), np.array([5, 7, 7, 0]), 3, [0])
        array([ 7, -1, -1])
    """
    out = np.full(num_tokens, -1, dtype=np.int64)
    use = ~np.isin(labels, ignore) & (labels >= 0)
    tokens, labels = tokens[use], labels[use]
    if not len(labels):
        return out
    pairs, counts = np.unique(np.stack([tokens, labels], 1), axis=0, return_counts=True)
    order = np.lexsort((-pairs[:, 1], counts, pairs[:, 0]))  # by token, then count; ties: lowest label
    pairs = pairs[order]
    last = np.r_[pairs[1:, 0] != pairs[:-1, 0], True]
    out[pairs[last, 0]] = pairs[last, 1]
    return out


def raw_features(points: torch.Tensor, opts: LidarOptions) -> np.ndarray:
    """``[N_tokens, 7]`` pillar statistics per token (see :data:`RAW_FEATURES`); zeros when empty."""
    h, w = opts.grid_size()
    n = (h // opts.patch) * (w // opts.patch)
    tok = token_index(points, opts)
    cells = torch.unique(tok * (h * w) + cell_index(points, opts))
    occupied = torch.bincount(cells // (h * w), minlength=n).float() / opts.patch ** 2
    count = torch.bincount(tok, minlength=n).float()
    z = points[:, 2]
    z_mean = scatter(z, tok, n, "mean")
    z_sq = scatter(z * z, tok, n, "mean")
    feats = torch.stack([
        occupied, torch.log1p(count), z_mean,
        scatter(z, tok, n, "min"),
        scatter(z, tok, n, "max"),
        (z_sq - z_mean ** 2).clamp_min(0).sqrt(),
        scatter(points[:, 3], tok, n, "mean"),
    ], dim=1)
    return feats.numpy().astype(np.float32)


#: Label suffixes, in the order they are looked for.
LABEL_SUFFIXES = (".label", ".npy")


def _label_dirs(folder: Path, scan: Path, root: Path | None) -> list[Path]:
    """Where ``scan``'s label may sit: ``folder``, then its sub-folder mirroring the scan's.

    A scan ``ROOT/A/B/x.bin`` also pairs with ``folder/A/B/x.label``; in a SemanticKITTI
    tree (``00/velodyne/x.bin``) ``velodyne`` reads as ``labels`` (``00/labels/x.label``)
    or as nothing (``00/x.label``).
    """
    dirs = [folder]
    if root is not None and scan.is_relative_to(root):
        parts = scan.parent.relative_to(root).parts
        dirs += [folder.joinpath(*parts),
                 folder.joinpath(*("labels" if p == "velodyne" else p for p in parts)),
                 folder.joinpath(*(p for p in parts if p != "velodyne"))]
    return list(dict.fromkeys(dirs))


def find_label_file(folder: Path, scan: Path, root: Path | None = None) -> Path:
    """The label file for ``scan`` in ``folder``: same stem, ``.label`` or ``.npy``.

    Looked for directly in ``folder``, then in the sub-folder of ``folder`` that mirrors the
    scan's place under ``root`` (the scans folder; see :func:`_label_dirs`). A scan directly
    in ``root`` (or with no ``root``) also takes the one file with its stem anywhere under
    ``folder``; a scan in a sub-folder does not, since another sub-folder's file of the same
    name belongs to another scan.

    Raises:
        DataError: no such file, or none in the places above.

    Examples:
        >>> import tempfile
        >>> top = Path(tempfile.mkdtemp())
        >>> for seq in ("00", "01"):
        ...     (top / seq / "labels").mkdir(parents=True)
        ...     (top / seq / "labels" / "000000.label").touch()
        >>> find_label_file(top, top / "01" / "velodyne" / "000000.bin", top).relative_to(top)
        PosixPath('01/labels/000000.label')
    """
    for where in _label_dirs(folder, scan, root):
        for ext in LABEL_SUFFIXES:
            cand = where / f"{scan.stem}{ext}"
            if cand.is_file():
                return cand
    matches = sorted(p for p in folder.rglob(f"{scan.stem}.*") if p.suffix in LABEL_SUFFIXES)
    flat = root is None or scan.parent == root
    if len(matches) == 1 and flat:
        return matches[0]
    if matches:
        shown = ", ".join(str(m) for m in matches[:3]) + (", ..." if len(matches) > 3 else "")
        raise DataError(f"{scan}: no label file {scan.stem}.label or {scan.stem}.npy in {folder} "
                        f"or in its sub-folder mirroring the scan's, only elsewhere ({shown}); "
                        f"keep the scans' sub-folders in the labels folder (A/{scan.stem}.bin "
                        f"pairs with A/{scan.stem}.label, velodyne/ with labels/)")
    raise DataError(f"{scan}: no label file {scan.stem}.label or {scan.stem}.npy in {folder}")


def token_targets(scan: Path, kept: np.ndarray, points: torch.Tensor, label_dir: Path,
                  opts: LidarOptions, root: Path | None = None) -> np.ndarray:
    """``[N_tokens]`` majority class per token of one scan, labels matched by file stem.

    Args:
        scan: the scan file (for messages and the stem).
        kept: ``[N_stored]`` bool mask of the stored rows that survived validation and crop.
        points: ``[N, 4]`` those rows.
        label_dir: the labels folder.
        root: the scans folder (label files may mirror its sub-folders).
    """
    labels = read_labels(find_label_file(label_dir, scan, root), num_points=len(kept), scan=scan)
    h, w = opts.grid_size()
    return majority_labels(token_index(points, opts).numpy(), labels[kept],
                           (h // opts.patch) * (w // opts.patch), opts.ignore_labels)
