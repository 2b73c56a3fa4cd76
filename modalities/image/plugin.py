"""The image modality plugin: folders of images to ViT patch tokens, I-JEPA defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from jepa_core.config import Config
from jepa_core.modality import DataError, ModalityPlugin, ProbeData, Tokenizer
from jepa_core.presets import apply_preset, preset_name

from .dataset import ImageDataset
from .demo import demo_root
from .labels import array_labels, csv_labels, folder_labels
from .options import ImageOptions
from .readers import list_items
from .skips import SkipLog
from .tokenizer import PatchTokenizer


class ImageModality(ModalityPlugin):
    """Images (PNG, JPEG, WebP, BMP, TIFF; ``.npy``/``.npz`` arrays) as ViT patch tokens.

    ``--data`` is a folder, read recursively (class sub-folders, ImageFolder-style, or a
    flat folder), or one file. Every image is converted to RGB and resized to
    ``options.image_size`` (see :mod:`modalities.image.readers`). ``embed`` writes one
    mean-pooled embedding per image. ``probe --label folder`` takes the class from each
    image's sub-folder; ``probe --label FILE.csv`` from a CSV of ``path,label`` with
    paths relative to the data folder (``index,label`` for one array file); ``probe
    --label KEY`` for ``.npz`` images from their array ``KEY`` (``labels``, ``y``). The raw baseline is the image downsampled to
    ``options.raw_size`` pixels a side.
    """

    name = "image"
    options_class = ImageOptions
    embedding_level = "sample"
    data_options = ("image_size",)  # --set data.image_size=224 is options.image_size
    embed_options = ("image_size", "on_bad_image", "verify")  # embed/probe --set; positions resampled

    def default_config(self) -> dict:
        """I-JEPA's objective and masks, a small ViT sized for a 2-core CPU.

        As in I-JEPA: 4 target blocks of 15-20% of the grid at aspect 0.75-1.5, a
        context block of 85-100% minus the targets, an EMA teacher with momentum from
        0.996 to 1.0, smooth-L1 on layer-normed targets, weight decay from 0.04 to 0.4
        (cosine) and a warmup-cosine learning rate. The encoder is 96 wide and 4 deep on
        an 8 x 8 grid of 4 px patches of 32 px images, the predictor 64 wide and 2 deep;
        with batch 64 the digits demo (10 epochs, 280 steps) trains in a few minutes on 2
        cores. Two DataLoader workers decode images beside the training step.

        Blocks may span the whole grid (``mask.full_span: true``); I-JEPA's collator keeps
        every side below the grid's (``full_span: false``), which on the 8 x 8 default grid
        caps the context block at 49 of 64 tokens: faster, but it scored lower on the
        digits probes (``benchmarks/results/image_probe.md``).

        Beside I-JEPA's loss, VICReg's covariance term and a variance hinge on the
        context embeddings (``objective.vicreg_covariance=1``, ``variance_hinge=1``; set
        both to 0 for I-JEPA's objective alone). At CPU budgets I-JEPA's loss alone made
        the mean-pooled features *less* linearly separable than at random init, and more
        so the longer it trained; with the two terms the pretrained encoder leads. The
        settings tried and their numbers are in ``benchmarks/results/image_probe.md``.
        """
        return {
            "data": {"batch_size": 64, "num_workers": 2},
            "mask": {"name": "multiblock", "num_targets": 4, "target_scale": [0.15, 0.2],
                     "target_aspect": [0.75, 1.5], "context_scale": [0.85, 1.0],
                     "context_aspect": [1.0, 1.0], "min_keep": 4, "allow_overlap": False,
                     "full_span": True},
            "model": {"dim": 96, "depth": 4, "heads": 4, "predictor_dim": 64,
                      "predictor_depth": 2, "predictor_heads": 4},
            "target": {"kind": "ema", "momentum": [0.996, 1.0]},
            "objective": {"loss": "smooth_l1", "normalize_targets": True,
                          "vicreg_covariance": 1.0, "variance_hinge": 1.0},
            "optim": {"epochs": 10, "lr": 1e-3, "min_lr": 1e-6, "warmup": 0.1,
                      "weight_decay": [0.04, 0.4]},
        }

    def demo_data(self) -> str:
        return str(demo_root())

    def demo_label(self, path: str | None) -> str | None:
        """``folder`` when ``path`` is the embedded digits demo (one sub-folder per digit)."""
        if not path:
            return None
        here = Path(path).resolve()
        return "folder" if here.name == "digits" and here.parent.name.startswith("image_digits_v") else None

    def _opts(self, cfg: Config, state: dict | None) -> ImageOptions:
        """The options (those saved in ``state`` when given), with the preset applied.

        The preset is ``model.preset`` (the core sets the model sizes from it) or, the
        older spelling, ``options.preset``; either sets ``options.patch_size``. The masks
        are checked against the grid for a new run only: a trained run's options were
        checked when it started, and embedding at another ``image_size`` draws no masks.
        """
        opts = options_with_preset(self, cfg, state)
        if state is None or "options" not in state:
            _check_grid(opts, cfg)
        return opts

    @property
    def skips(self) -> SkipLog:
        """The bad images this plugin's commands skipped (``options.on_bad_image=skip``)."""
        if "_skips" not in self.__dict__:
            self._skips = SkipLog()
        return self._skips

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[ImageDataset, dict]:
        opts = self._opts(cfg, state)
        skipped: list[str] = []
        items = list_items(path, opts.patch_size, opts.verify, opts.on_bad_image, skipped=skipped)
        self.skips.listed(skipped)
        return ImageDataset(items, opts, str(path)), {"options": dataclasses.asdict(opts)}

    def build_tokenizer(self, cfg: Config, state: dict) -> Tokenizer:
        return PatchTokenizer(self._opts(cfg, state), cfg.model.dim, self.skips)

    def end_report(self) -> str | None:
        """How many bad images were skipped, listing and decoding (``on_bad_image=skip``)."""
        return self.skips.summary()

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        task = task or "classification"
        dataset, _ = self.load(path, cfg, state)
        if label == "folder":
            if task != "classification":
                raise DataError("--label folder gives classes; --task regression needs --label FILE.csv")
            indices, _, targets = folder_labels(dataset.items, path)
        elif label.lower().endswith(".csv"):
            indices, _, targets = csv_labels(dataset.items, path, label, task)
        elif any(it.path.lower().endswith(".npz") for it in dataset.items):
            indices, _, targets = array_labels(dataset.items, label, task)
        else:
            raise DataError(f"--label for images is 'folder' (class = sub-folder), a CSV file of "
                            f"path,label, or for .npz images the name of their labels array; got {label!r}")
        subset = dataset.subset(indices)
        return ProbeData(dataset=subset, targets=np.asarray(targets), raw_features=raw_pixels(subset),
                         task=task, metric="accuracy" if task == "classification" else "r2",
                         level="sample")


def _check_grid(opts: ImageOptions, cfg: Config) -> None:
    """Raise a :class:`DataError` saying what to change when the masks cannot fit the grid."""
    from jepa_core.masking import create_masker
    from jepa_core.tokens import TokenLayout

    masker = create_masker(cfg.mask)

    def fits(side: int) -> bool:
        try:
            masker.check(TokenLayout((side, side)))
        except ValueError:
            return False
        return True

    side = opts.grid[0]
    try:
        masker.check(TokenLayout(opts.grid))
    except ValueError as e:
        need = next((g for g in range(side + 1, 257) if fits(g)), None)
        patch = f"{opts.patch_size} px patches" + (f" (preset {opts.preset})" if opts.preset else "")
        fix = (f"use options.image_size (or data.image_size) of at least {need * opts.patch_size} "
               f"(a {need} x {need} grid) or smaller patches" if need else "use a larger grid")
        if opts.preset:
            fix += " (a preset sets the patch size: drop it and set options.patch_size and model.*)"
        else:
            fix += " (options.patch_size)"
        raise DataError(f"options.image_size={opts.image_size} cut into {patch} is a {side} x {side} "
                        f"token grid, too small for the {cfg.mask.name} masks ({e}); {fix}") from None


def options_with_preset(plugin: ModalityPlugin, cfg: Config, state: dict | None) -> Any:
    """``plugin``'s run options with the ViT preset applied, validated.

    The preset is ``model.preset`` or, the older spelling, ``options.preset`` (they must
    agree); it sets the model and predictor sizes and ``options.patch_size``. The image
    and video plugins share it.

    Raises:
        DataError: an unknown or disagreeing preset, or an option out of range.
    """
    try:
        opts = plugin.run_options(cfg, state)
        name = preset_name(opts.preset, cfg.model.preset)
        if name:
            opts.preset, opts.patch_size = name, apply_preset(cfg, name, "options.preset")
        opts.validate()
    except ValueError as e:
        raise DataError(str(e)) from None
    return opts


def raw_pixels(dataset: ImageDataset, batch: int = 256) -> np.ndarray:
    """The raw baseline: each image area-downsampled to ``raw_size`` x ``raw_size`` RGB, flattened."""
    size = dataset.opts.raw_size
    out = []
    for start in range(0, len(dataset), batch):
        images = torch.stack([dataset[i]["image"] for i in range(start, min(start + batch, len(dataset)))])
        out.append(F.adaptive_avg_pool2d(images.float() / 255.0, size).flatten(1).numpy())
    return np.concatenate(out, axis=0)
