"""The video modality plugin: clips to tubelet tokens, V-JEPA defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from jepa_core.config import Config
from jepa_core.modality import DataError, ModalityPlugin, ProbeData, Tokenizer
from modalities.image.labels import csv_labels, folder_labels
from modalities.image.plugin import options_with_preset

from .dataset import VideoDataset
from .demo import demo_root
from .options import VideoOptions
from .readers import IMAGES_PREFIX, list_clips
from .sampling import crop_clips, crop_starts
from .tokenizer import TubeletTokenizer


class VideoModality(ModalityPlugin):
    """Clips (video files through PyAV, ``[T, H, W, C]`` arrays, frame folders) as tubelet tokens.

    ``--data`` is a folder, read recursively (class sub-folders, or flat), or one file;
    see :mod:`modalities.video.readers` for what counts as a clip, and
    ``--data images:PATH`` to embed images as one-frame clips. Every frame is resized
    to ``options.image_size``. ``embed`` writes one mean-pooled embedding per clip
    window. ``probe --label folder`` takes the class from each clip's first sub-folder,
    ``--label FILE.csv`` from a CSV of ``path,label``. The raw baseline is the mean frame
    of the clip, downsampled to ``options.raw_size`` pixels a side.
    """

    name = "video"
    options_class = VideoOptions
    embedding_level = "sample"

    def default_config(self) -> dict:
        """V-JEPA's objective and masks, a small ViT sized for a 2-core CPU.

        As in V-JEPA: the two mask families (8 blocks at 15% of the frame and 2 at 70%,
        aspect 0.75-1.5, the whole clip long; the ``vjepa`` masker), L1 loss on
        layer-normed targets, an EMA teacher, weight decay 0.04 to 0.4 and a
        warmup-cosine learning rate. The encoder is 96 wide and 4 deep on a 4 x 4 x 4
        grid of 2 x 8 x 8 tubelets of 8-frame 32 px clips, the predictor 64 wide and 2
        deep; batch 32, 20 epochs of the demo (500 steps). Two DataLoader workers decode
        clips beside the training step.

        Two departures from V-JEPA for CPU budgets, as for images: the EMA momentum
        starts at 0.99 (V-JEPA: 0.998, which over 500 steps leaves the teacher near its
        random init), and VICReg's covariance term and a variance hinge on the context
        embeddings are added (weight 1 each; set both to 0 for V-JEPA's objective).
        Without them the targets collapsed to a few directions and the encoder lost the
        motion that its random init still carried; the settings tried and their numbers
        are in ``benchmarks/results/video_probe.md``.
        """
        return {
            "data": {"batch_size": 32, "num_workers": 2},
            "mask": {"name": "vjepa"},
            "model": {"dim": 96, "depth": 4, "heads": 4, "predictor_dim": 64,
                      "predictor_depth": 2, "predictor_heads": 4},
            "target": {"kind": "ema", "momentum": [0.99, 1.0]},
            "objective": {"loss": "l1", "normalize_targets": True,
                          "vicreg_covariance": 1.0, "variance_hinge": 1.0},
            "optim": {"epochs": 20, "lr": 1e-3, "min_lr": 1e-6, "warmup": 0.1,
                      "weight_decay": [0.04, 0.4]},
        }

    def demo_data(self) -> str:
        return str(demo_root())

    def demo_label(self, path: str | None) -> str | None:
        """``folder`` when ``path`` is the embedded demo (its class sub-folders are directions)."""
        if not path:
            return None
        here = Path(path).resolve()
        return "folder" if here.name == "clips" and here.parent.name.startswith("video_motion_v") else None

    def _opts(self, cfg: Config, state: dict | None) -> VideoOptions:
        """The options (those saved in ``state`` when given), with the preset applied."""
        return options_with_preset(self, cfg, state)

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[VideoDataset, dict]:
        opts = self._opts(cfg, state)
        if state is None or "options" not in state:  # a new run: its masks must fit the grid
            _check_grid(opts, cfg)
        items = list_clips(path, opts)
        root = str(path)[len(IMAGES_PREFIX):] if str(path).startswith(IMAGES_PREFIX) else str(path)
        return VideoDataset(items, opts, root), {"options": dataclasses.asdict(opts)}

    def describe_state(self, state: dict) -> str | None:
        o = VideoOptions(**state["options"])
        return (f"clips of {o.frames_per_clip} frames (every {o.frame_step}) at {o.image_size} px, "
                f"{o.tubelet_size}x{o.patch_size}x{o.patch_size} tubelets: a "
                f"{'x'.join(map(str, o.grid))} token grid")

    def build_tokenizer(self, cfg: Config, state: dict) -> Tokenizer:
        return TubeletTokenizer(self._opts(cfg, state), cfg.model.dim)

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        task = task or "classification"
        dataset, _ = self.load(path, cfg, state)
        if label == "folder":
            if task != "classification":
                raise DataError("--label folder gives classes; --task regression needs --label FILE.csv")
            indices, _, targets = folder_labels(dataset.items, dataset.root, noun="clips", unit="clip")
        elif label.lower().endswith(".csv"):
            indices, _, targets = csv_labels(dataset.items, dataset.root, label, task, unit="clip")
        else:
            raise DataError(f"--label for clips is 'folder' (class = sub-folder) or a CSV file of "
                            f"path,label; got {label!r}")
        subset = dataset.subset(indices)
        return ProbeData(dataset=subset, targets=np.asarray(targets), raw_features=mean_frame_pixels(subset),
                         task=task, metric="accuracy" if task == "classification" else "r2",
                         level="sample")


def clip_frames(dataset: VideoDataset, start: int, stop: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The centre ``frames_per_clip`` crop of samples ``start..stop`` as float ``[B, F, 3, S, S]``
    in ``[0, 1]``, and each one's real frame count."""
    items = [dataset[i] for i in range(start, stop)]
    video = torch.stack([it["video"] for it in items])
    frames = torch.tensor([it["frames"] for it in items])
    f = dataset.opts.frames_per_clip
    video, frames = crop_clips(video, frames, crop_starts(frames, f), f)
    return video.float() / 255.0, frames


def mean_frame_pixels(dataset: VideoDataset, batch: int = 128) -> np.ndarray:
    """The raw baseline: the mean of each clip's real frames, area-downsampled to
    ``raw_size`` x ``raw_size`` RGB, flattened."""
    size = dataset.opts.raw_size
    out = []
    for start in range(0, len(dataset), batch):
        video, frames = clip_frames(dataset, start, min(start + batch, len(dataset)))
        real = (torch.arange(video.shape[1])[None] < frames[:, None]).float()
        mean = (video * real[:, :, None, None, None]).sum(1) / frames[:, None, None, None]
        out.append(F.adaptive_avg_pool2d(mean, size).flatten(1).numpy())
    return np.concatenate(out, axis=0)


def _check_grid(opts: VideoOptions, cfg: Config) -> None:
    """Raise a :class:`DataError` naming the options behind a grid the masks cannot fit."""
    from jepa_core.masking import check_masks_fit

    check_masks_fit(cfg.mask, opts.grid,
                    f"clips of options.frames_per_clip={opts.frames_per_clip} frames at "
                    f"options.image_size={opts.image_size} px, cut into {opts.tubelet_size} x "
                    f"{opts.patch_size} x {opts.patch_size} tubelets (options.tubelet_size, "
                    f"options.patch_size),", "use more frames or pixels, or smaller tubelets")
