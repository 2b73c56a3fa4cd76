"""The audio modality plugin: folders of recordings to log-mel patch tokens."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from jepa_core.config import Config
from jepa_core.demo_cache import cache_root
from jepa_core.masking import check_masks_fit
from jepa_core.modality import DataError, ModalityPlugin, ProbeData, Tokenizer

from .dataset import AudioDataset
from .demo import demo_root
from .labels import csv_labels, folder_labels
from .options import AudioOptions
from .readers import list_items
from .tokenizer import LogMelFeatures, AudioTokenizer


class AudioModality(ModalityPlugin):
    """Recordings (WAV, FLAC, OGG, MP3) as log-mel patch tokens on a (frequency, time) grid.

    ``--data`` is a folder, read recursively (class sub-folders or flat), or one file.
    Recordings are resampled to ``options.sample_rate``, mixed to mono and cut into
    ``options.clip_seconds`` clips (see :mod:`modalities.audio.readers`); every clip is
    one sample. The log-mel is computed in batch by the tokenizer on the training
    device, normalized by the mean and std of the training data's log-mel (fitted when
    pretraining starts and saved in the run's ``modality_state.json``, reused by
    ``embed`` and ``probe``). ``embed`` writes one mean-pooled embedding per clip.
    ``probe --label folder`` takes a clip's class from its recording's sub-folder,
    ``--label FILE.csv`` from a CSV of ``path,label`` per recording. The raw baseline is
    the mean and std over time of each normalized log-mel band (``[S, 2 * n_mels]``);
    the attentive probe's raw baseline attends over the per-time-patch mean of the bands.
    """

    name = "audio"
    options_class = AudioOptions
    embedding_level = "sample"

    def default_config(self) -> dict:
        """Time-frequency masks and a small ViT sized for a 2-core CPU.

        Targets are 2 time strips, frequency bands or 2-D blocks per sample (the kind
        drawn per batch), the context everything else; an EMA teacher whose momentum rises
        from 0.95 to 0.99 (I-JEPA's 0.996 to 1.0 leaves the teacher, which embed and probe
        read, close to its random init over the few hundred steps of a CPU-sized run),
        smooth-L1 on layer-normed targets, and as in the image plugin VICReg's covariance
        term and a variance hinge on the context embeddings. The encoder is 96 wide and 4
        deep on the 5 x 12 grid of 2 s clips, the predictor 64 wide and 2 deep; batch 32.
        """
        return {
            "data": {"batch_size": 32, "num_workers": 2},
            "mask": {"name": "time_frequency"},
            "model": {"dim": 96, "depth": 4, "heads": 4, "predictor_dim": 64,
                      "predictor_depth": 2, "predictor_heads": 4},
            "target": {"kind": "ema", "momentum": [0.95, 0.99]},
            "objective": {"loss": "smooth_l1", "normalize_targets": True,
                          "vicreg_covariance": 1.0, "variance_hinge": 1.0},
            "optim": {"epochs": 10, "lr": 1e-3, "min_lr": 1e-6, "warmup": 0.1,
                      "weight_decay": [0.04, 0.4]},
        }

    def demo_data(self) -> str:
        return str(demo_root())

    def demo_label(self, path: str | None) -> str | None:
        """``folder`` when ``path`` is the synthesized demo's folder."""
        if not path:
            return None
        p = Path(path).resolve()
        is_demo = (p.name == "sounds" and p.parent.name.startswith("audio_synth_")
                   and p.parent.parent == cache_root().resolve())
        return "folder" if is_demo else None

    def describe_state(self, state: dict) -> str:
        o = AudioOptions(**state["options"])
        f, t = o.grid
        return (f"audio: {state['clips']} clips of {o.clip_seconds:g} s from {state['files']} recordings at "
                f"{o.sample_rate} Hz; log-mel {o.n_mels} bands x {o.frames} frames "
                f"(mean {state['mean']:.2f}, std {state['std']:.2f}); {f} x {t} patches of "
                f"{o.patch_freq} x {o.patch_time}")

    def _opts(self, cfg: Config, state: dict | None) -> AudioOptions:
        return self.checked_options(cfg, state)

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[AudioDataset, dict]:
        opts = self._opts(cfg, state)
        if state is None:  # a new run: its masks must fit the grid, checked before any file
            check_masks_fit(cfg.mask, opts.grid,
                            f"options.clip_seconds={opts.clip_seconds:g} s clips and "
                            f"options.n_mels={opts.n_mels} bands, cut into {opts.patch_freq} x "
                            f"{opts.patch_time} patches (options.patch_freq, options.patch_time),",
                            "use longer clips, more mel bands or smaller patches")
        items = list_items(path, opts)
        dataset = AudioDataset(items, opts, str(path))
        if state is None:
            mean, std = fit_normalization(dataset)
            state = {"options": dataclasses.asdict(opts), "mean": mean, "std": std,
                     "clips": len(items), "files": len({it.path for it in items})}
        return dataset, state

    def build_tokenizer(self, cfg: Config, state: dict) -> Tokenizer:
        return AudioTokenizer(self._opts(cfg, state), cfg.model.dim, state["mean"], state["std"])

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        task = task or "classification"
        dataset, _ = self.load(path, cfg, state)
        if label == "folder":
            if task != "classification":
                raise DataError("--label folder gives classes; --task regression needs --label FILE.csv")
            indices, targets = folder_labels(dataset.items, path)
        elif label.lower().endswith(".csv"):
            indices, targets = csv_labels(dataset.items, path, label, task)
        else:
            raise DataError(f"--label for audio is 'folder' (class = sub-folder) or a CSV file of "
                            f"path,label; got {label!r}")
        subset = dataset.subset(indices)
        features, tokens, valid = raw_logmel(subset, state)
        return ProbeData(dataset=subset, targets=np.asarray(targets), raw_features=features,
                         task=task, metric="accuracy" if task == "classification" else "r2",
                         level="sample", raw_tokens=tokens, raw_valid=valid)


def _batches(dataset: AudioDataset, batch: int):
    for start in range(0, len(dataset), batch):
        rows = [dataset[i] for i in range(start, min(start + batch, len(dataset)))]
        errors = [r["error"] for r in rows if r["error"]]
        if errors:
            raise DataError(errors[0])
        yield {"audio": torch.stack([r["audio"] for r in rows]),
               "length": torch.tensor([r["length"] for r in rows])}


def fit_normalization(dataset: AudioDataset, batch: int = 64) -> tuple[float, float]:
    """Mean and std of the log-mel over the real frames of up to ``norm_clips`` clips
    (evenly spaced through the dataset)."""
    opts = dataset.opts
    n = len(dataset)
    take = np.unique(np.linspace(0, n - 1, min(n, opts.norm_clips)).round().astype(int)).tolist()
    feats = LogMelFeatures(opts, 0.0, 1.0)
    total = total_sq = count = 0.0
    with torch.no_grad():
        for b in _batches(dataset.subset(take), batch):
            x, frame_valid = feats(b)
            w = frame_valid[:, None, :].expand_as(x).double()
            total += float((x.double() * w).sum())
            total_sq += float((x.double().square() * w).sum())
            count += float(w.sum())
    mean = total / count
    std = max(np.sqrt(max(total_sq / count - mean * mean, 0.0)), 1e-6)
    return float(mean), float(std)


def raw_logmel(dataset: AudioDataset, state: dict,
               batch: int = 64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The raw baselines: per clip the mean and std over time of each normalized log-mel
    band ``[S, 2 * n_mels]``, and per time patch the mean of each band ``[S, T', n_mels]``
    with the patches' validity ``[S, T']``."""
    opts = dataset.opts
    feats = LogMelFeatures(opts, state["mean"], state["std"])
    pt, t = opts.patch_time, opts.grid[1]
    stats, tokens, valid = [], [], []
    with torch.no_grad():
        for b in _batches(dataset, batch):
            x, fv = feats(b)
            w = fv[:, None, :].double()
            n = w.sum(-1)
            mean = (x.double() * w).sum(-1) / n
            std = ((((x.double() - mean[..., None]) * w) ** 2).sum(-1) / n).sqrt()
            stats.append(torch.cat([mean, std], 1).float().numpy())
            tokens.append(x.view(len(x), opts.n_mels, t, pt).mean(-1).transpose(1, 2).numpy())
            valid.append(fv[:, ::pt][:, :t].numpy())
    return np.concatenate(stats), np.concatenate(tokens), np.concatenate(valid)
