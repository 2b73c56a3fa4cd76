"""Embed a dataset with a trained run's encoder."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..models import Encoder
from ..modality import DataError, ModalityPlugin, move_to
from ..train.progress import PLAIN_LINES, LoopProgress


@torch.no_grad()
def encode_dataset(encoder: Encoder, plugin: ModalityPlugin, dataset: Dataset, level: str,
                   batch_size: int = 256, device: torch.device | str = "cpu",
                   desc: str = "embed", progress: bool = True) -> np.ndarray:
    """Features of every sample: ``[S, D]`` pooled, or ``[S, N, D]`` per token.

    Args:
        encoder: the encoder to run (in eval mode).
        plugin: the modality (its ``collate``).
        dataset: samples as the plugin's ``load`` returns them.
        level: ``sample`` or ``token``.
        progress: show the batches done on stderr (a bar on a terminal, else plain lines
            for a long loop).

    Sample-level embeddings work for any modality, also one whose batches hold different
    numbers of tokens (no grid). Token-level embeddings need a fixed token grid, so that
    every sample has the same ``N`` tokens in the same order.

    Raises:
        DataError: ``level='token'`` for a modality whose tokenizer has no grid.
    """
    if level not in {"sample", "token"}:
        raise ValueError(f"level must be 'sample' or 'token', got {level!r}")
    if level == "token" and encoder.layout is None:
        raise DataError(f"token-level embeddings are not supported for modality {plugin.name!r}: "
                        "its tokens have no fixed grid (the count varies from sample to sample); "
                        "use sample-level embeddings (embedding_level='sample')")
    encoder = encoder.to(device).eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=plugin.collate)
    out = []
    bar = _progress(loader, desc, progress)
    for batch in loader:
        batch = move_to(batch, torch.device(device))
        feats = encoder.pooled_features(batch) if level == "sample" else encoder.token_features(batch)[0]
        out.append(feats.float().cpu().numpy())
        bar.update()
    bar.close()
    return np.concatenate(out, axis=0)


def _progress(loader: DataLoader, desc: str, progress: bool) -> LoopProgress:
    """Batches done on stderr: a bar on a terminal; in a log file a plain line every tenth
    of them, for loops of at least ten batches (shorter ones end in seconds)."""
    long_enough = sys.stderr.isatty() or len(loader) >= PLAIN_LINES
    return LoopProgress(len(loader), desc, "batch", enabled=progress and long_enough)


@torch.no_grad()
def encode_tokens(encoder: Encoder, plugin: ModalityPlugin, dataset: Dataset, batch_size: int = 256,
                  device: torch.device | str = "cpu",
                  desc: str = "embed tokens", progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Per-token features of every sample and their validity, for any modality.

    Unlike ``encode_dataset(level='token')`` this also works without a token grid: the
    samples are padded to the longest one and ``valid`` marks their real tokens (what an
    attentive probe attends over); features of tokens that are not valid are zeros.

    Returns:
        ``(features [S, N, D] float32, valid [S, N] bool)``.
    """
    encoder = encoder.to(device).eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=plugin.collate)
    feats, valid = [], []
    bar = _progress(loader, desc, progress)
    for batch in loader:
        f, v = encoder.token_features(move_to(batch, torch.device(device)))
        feats.append(f.float().cpu().numpy())
        valid.append(v.cpu().numpy())
        bar.update()
    bar.close()
    if not feats:
        raise DataError(f"no samples to embed for modality {plugin.name!r}")
    n = max(f.shape[1] for f in feats)
    out = np.zeros((sum(len(f) for f in feats), n, feats[0].shape[-1]), dtype=np.float32)
    mask = np.zeros(out.shape[:2], dtype=bool)
    row = 0
    for f, v in zip(feats, valid):
        out[row:row + len(f), :f.shape[1]] = np.where(v[..., None], f, 0.0)
        mask[row:row + len(f), :f.shape[1]] = v
        row += len(f)
    return out, mask


EMBEDDING_SUFFIXES = (".npy", ".parquet")


def check_embedding_path(path: str | Path) -> Path:
    """Raise ``ValueError`` unless ``path`` ends in ``.npy`` or ``.parquet``.

    Examples:
        >>> check_embedding_path("emb.parquet").name
        'emb.parquet'
        >>> check_embedding_path("emb.csv")
        Traceback (most recent call last):
        ...
        ValueError: --out must end in .npy or .parquet, got 'emb.csv'
    """
    path = Path(path)
    if path.suffix not in EMBEDDING_SUFFIXES:
        raise ValueError(f"--out must end in .npy or .parquet, got {path.name!r}")
    return path


def write_embeddings(embeddings: np.ndarray, path: str | Path,
                     names: list[str] | None = None) -> Path:
    """Save as ``.npy`` (any shape) or ``.parquet`` (one row per sample, or per sample and token).

    Args:
        embeddings: ``[S, D]`` or ``[S, N, D]``.
        path: the file; its suffix picks the format.
        names: the ``D`` Parquet column names (default ``emb_0 ...``); a ``.npy`` file gets
            them beside it as ``<stem>.columns.json``.
    """
    path = check_embedding_path(path)
    if names is not None and len(names) != embeddings.shape[-1]:
        raise ValueError(f"{len(names)} column names for embeddings of width {embeddings.shape[-1]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npy":
        np.save(path, embeddings)
        if names is not None:
            import json

            path.with_suffix(".columns.json").write_text(json.dumps(names))
    else:
        import pandas as pd

        flat = embeddings.reshape(-1, embeddings.shape[-1])
        columns = names if names is not None else [f"emb_{i}" for i in range(flat.shape[1])]
        frame = pd.DataFrame(flat, columns=columns)
        if embeddings.ndim == 3:
            s, n = embeddings.shape[:2]
            frame.insert(0, "token", np.tile(np.arange(n), s))
            frame.insert(0, "sample", np.repeat(np.arange(s), n))
        frame.to_parquet(path, index=False)
    return path
