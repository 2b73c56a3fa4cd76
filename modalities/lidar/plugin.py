"""The LiDAR modality plugin: scan folders to BEV patch tokens, AD-L-JEPA defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from jepa_core.config import Config, from_dict
from jepa_core.demo_cache import cache_root
from jepa_core.modality import DataError, ModalityPlugin, ProbeData, Tokenizer

from .dataset import ScanDataset, find_scans
from .demo import demo_root
from .options import LidarOptions
from .pillars import concat_clouds
from .probe import raw_features, token_targets
from .tokenizer import BevTokenizer


class LidarModality(ModalityPlugin):
    """LiDAR sweeps (``.bin``, ``.npy``, ``.pcd``, ``.las``/``.laz``) as BEV patch tokens.

    ``embed`` writes one embedding per BEV token, ``[S, H' * W', D]`` in row-major order
    of the ``(H', W')`` token grid (rows along y, columns along x); with the default
    options ``H' = W' = 32``. ``probe --label DIR`` matches label files
    (SemanticKITTI ``.label`` or ``.npy``) to scans by file stem and scores the majority
    class per token by mean IoU.
    """

    name = "lidar"
    options_class = LidarOptions
    embedding_level = "token"
    demo_probe_flags = "--c auto"

    def default_config(self) -> dict:
        """AD-L-JEPA objective (cosine, down-weighted empty cells, variance hinge), CPU sizes.

        Sized to pretrain on the demo scenes in minutes on 2 CPU cores (96 scans, 10
        epochs of batch 8 = 120 steps). For such short runs the EMA momentum starts at
        0.98 (not 0.996) so the teacher moves within the run. Beside the AD-L-JEPA
        variance hinge, VICReg's covariance term decorrelates the embedding dimensions
        (``objective.vicreg_covariance=0`` for the paper's objective alone); it scored
        above SIGReg on the demo probe. The hinge keeps each dimension's std above
        ``objective.hinge_gamma: 0.25``, about what the encoder's final LayerNorm gives at
        initialization, so it guards against collapse (AD-L-JEPA uses 1/16) instead of
        pushing every dimension to unit std: behind a LayerNorm that is only possible for
        whitened features, and together with the covariance term it whitened them over
        long runs (the prediction loss rose and the probe fell; see
        ``benchmarks/results/lidar_long.md``). The masker splits non-empty and empty cells
        half/half into context and targets as in AD-L-JEPA's KITTI config, and
        ``options.token_scale`` keeps the BEV tokens ahead of the sin-cos positions.
        Empty cells (token type 1) weigh 0.25 in the latent loss
        (``objective.type_weights: [1.0, 0.25]``; the older ``objective.empty_weight``
        still sets the weight of type 1).

        The encoder attends within a 3 x 3 token window (``model.attention_window=1``),
        on 1.6 m tokens (``options.patch=4``): local features with local context, the
        inductive bias of AD-L-JEPA's convolutional BEV backbones. This is what puts the
        pretrained encoder ahead of its random-init twin on the demo probe, where global
        attention left them level. The numbers, the settings tried and the diagnosis are
        in ``benchmarks/results/lidar_probe.md``.

        The training method is ``lidar_recon`` with ``stats: patch`` at weight 0.3: beside
        the latent loss, a linear decoder reads each context token's own patch statistics
        (occupied fraction, point count, height and intensity summaries) back from its
        output. Without it the probe falls as runs get longer (the features drift toward
        whitened, less predictable ones); with it the probe rises over 6x the default
        steps and is level at the default length. ``--set method.name=masked`` trains the
        plain masked objective. The runs are in ``benchmarks/results/lidar_long.md``.

        Scans are read and cropped in two DataLoader worker processes
        (``data.num_workers``), which stay up from epoch to epoch.
        """
        return {
            "data": {"batch_size": 8, "num_workers": 2},
            "method": {"name": "lidar_recon", "stats": "patch", "weight": 0.3},
            "mask": {"name": "bev", "context_ratio": 0.5, "target_ratio": 0.5},
            "model": {"dim": 64, "depth": 4, "heads": 4, "attention_window": 1},
            "predictor": {"name": "masked", "dim": 64, "depth": 2, "heads": 4},
            "target": {"kind": "ema", "momentum": [0.98, 1.0]},
            "objective": {"loss": "cosine", "normalize_targets": False, "type_weights": [1.0, 0.25],
                          "variance_hinge": 1.0, "hinge_gamma": 0.25, "vicreg_covariance": 1.0},
            "optim": {"epochs": 10, "lr": 2e-3, "amp": False},
        }

    def demo_data(self) -> str:
        return str(demo_root() / "velodyne")

    def demo_label(self, path: str | None) -> str | None:
        """The demo's ``labels/`` folder when ``path`` is a demo's ``velodyne/`` folder."""
        if not path:
            return None
        scans = Path(path).resolve()
        labels = scans.parent / "labels"
        is_demo = (scans.name == "velodyne" and scans.parent.name.startswith("lidar_demo_")
                   and scans.parent.parent == cache_root().resolve())
        return str(labels) if is_demo and labels.is_dir() else None

    def describe_state(self, state: dict) -> str:
        """The BEV layout the scans are read into.

        Examples:
            >>> print(LidarModality().describe_state({"options": dataclasses.asdict(LidarOptions())}))
            BEV: x 0.0..51.2 m, y -25.6..25.6 m in 128 x 128 pillars of 0.4 m; 32 x 32 tokens of 1.6 m
        """
        opts = from_dict(LidarOptions, state["options"], where="options")
        x0, y0, _, x1, y1, _ = opts.point_range
        (h, w), (th, tw) = opts.grid_size(), opts.token_grid()
        return (f"BEV: x {x0}..{x1} m, y {y0}..{y1} m in {h} x {w} pillars of "
                f"{opts.pillar_size[0]:g} m; {th} x {tw} tokens of {opts.pillar_size[0] * opts.patch:g} m")

    def _opts(self, cfg: Config, state: dict | None) -> LidarOptions:
        return self.checked_options(cfg, state)

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[Dataset, dict]:
        opts = self._opts(cfg, state)
        dataset = ScanDataset(find_scans(path, opts.extensions), opts)
        return dataset, {"options": dataclasses.asdict(opts)}

    def build_tokenizer(self, cfg: Config, state: dict) -> Tokenizer:
        return BevTokenizer(self._opts(cfg, state), cfg.model.dim)

    def collate(self, samples: list) -> dict:
        """Concatenate clouds: ``points [P, 4]``, ``batch [P]`` (sample of each point), ``index [B]``."""
        return concat_clouds([s["points"] for s in samples],
                             torch.stack([s["index"] for s in samples]))

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        if task not in (None, "classification"):
            raise DataError(f"lidar probes are per-token classification, not {task!r}")
        dataset, _ = self.load(path, cfg, state)
        label_dir = Path(label)
        if not label_dir.is_dir():
            raise DataError(f"{label_dir}: --label must be a folder of .label/.npy files "
                            f"named like the scans")
        opts = dataset.opts
        root = Path(path) if Path(path).is_dir() else Path(path).parent
        targets, raw = [], []
        for i, f in enumerate(dataset.files):  # one scan in memory at a time
            points, kept = dataset.load(i)
            points = torch.from_numpy(points)
            targets.append(token_targets(f, kept, points, label_dir, opts, root))
            raw.append(raw_features(points, opts))
        targets, raw = np.stack(targets), np.stack(raw)
        return ProbeData(dataset=dataset, targets=targets, raw_features=raw,
                         task="classification", metric="miou", level="token")
