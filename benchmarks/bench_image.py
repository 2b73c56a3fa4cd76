"""Image pretraining speed: the engine's step against an eager I-JEPA step, and the data path.

Times, in one run on this machine, (1) one training step of the image plugin's default
model (32 px, 8 x 8 tokens) and of ``vit_small_16`` at 224 px through the engine (model
forward with its on-device crop, backward, clipping, AdamW, EMA update: the trainer's own
``Trainer.train_step``) against :mod:`ijepa_reference` at the same sizes, whose per-sample mask
collator is timed beside the step, and against the same eager step keeping every context
whole (``keep_all``: padded with a key mask, the engine's work); and (2) images/s through decode + resize in DataLoader
workers and through the batched on-device crop, against the step's images/s. Rows
``*_bf16`` run both steps under bf16 autocast (the engine through ``optim.cpu_amp``).

Usage: ``python benchmarks/bench_image.py [--device cpu|cuda] [--steps N] [--out benchmarks/results]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ijepa_reference import IJepaStep  # noqa: E402
from timing import sync as _sync, time_interleaved  # noqa: E402

from jepa_core.config import build_config  # noqa: E402
from jepa_core.registry import create_modality  # noqa: E402
from jepa_core.run import build_model  # noqa: E402
from jepa_core.bench.trainer_steps import bench_trainer  # noqa: E402
from modalities.image.augment import crop_boxes, resized_crop  # noqa: E402
from modalities.image.dataset import ImageDataset  # noqa: E402
from modalities.image.readers import list_items  # noqa: E402

CLAMP = {"mask": {"full_span": False}}  # I-JEPA's block sides, below the grid's
SETTINGS = {
    "default_32px": {"options": {}, "batch": 64},
    "default_32px_ijepa_clamp": {"options": {}, "batch": 64, "config": CLAMP},
    "vit_small_16_224px": {"options": {"preset": "vit_small_16", "image_size": 224}, "batch": 8},
    "vit_small_16_224px_ijepa_clamp": {"options": {"preset": "vit_small_16", "image_size": 224},
                                       "batch": 8, "config": CLAMP},
    # bf16 autocast (engine: optim.cpu_amp / optim.amp; the reference under the same autocast)
    "default_32px_bf16": {"options": {}, "batch": 64, "bf16": True},
    "vit_small_16_224px_bf16": {"options": {"preset": "vit_small_16", "image_size": 224}, "batch": 8,
                                "bf16": True},
}


def engine_step(setting: dict, device: torch.device):
    plugin = create_modality("image")
    bf16 = bool(setting.get("bf16"))
    cfg = build_config({"modality": "image"}, plugin.default_config(), setting.get("config", {}),
                       {"options": setting["options"], "optim": {"amp": bf16, "cpu_amp": bf16}})
    opts = plugin._opts(cfg, None)  # applies the preset to cfg.model
    state = {"options": dataclasses.asdict(opts)}
    model = build_model(cfg, plugin, state)
    b, s = setting["batch"], opts.image_size
    cfg.data.batch_size = b
    trainer = bench_trainer(model, cfg, [None] * b, list, device, steps=1000)
    trainer.model.train()
    images = torch.randint(0, 256, (b, 3, s, s), dtype=torch.uint8, device=device)
    step_no = [0]

    def step() -> None:
        ids = torch.arange(b, device=device) + b * step_no[0]
        trainer.train_step(step_no[0], ids, {"image": images})  # the step `jepa pretrain` runs
        step_no[0] += 1

    return step, cfg, opts


def reference_step(cfg, opts, batch: int, device: torch.device, keep_all: bool = False,
                   bf16: bool = False):
    m, p = cfg.model, cfg.predictor
    ref = IJepaStep(opts.image_size, opts.patch_size, m.dim, m.depth, m.heads, p.dim,
                    p.depth, p.heads, m.mlp_ratio, device=device,
                    min_keep=cfg.mask.min_keep, keep_all=keep_all)
    imgs = torch.randn(batch, 3, opts.image_size, opts.image_size, device=device)
    timing = {"collator_s": []}

    def step() -> None:
        tic = time.perf_counter()
        masks_enc, masks_pred = ref.masks(batch)
        timing["collator_s"].append(time.perf_counter() - tic)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            ref.step(imgs, masks_enc, masks_pred)

    return step, timing


def mask_tokens(cfg, grid: int, batch: int, batches: int = 20) -> dict:
    """Context / target tokens per sample, averaged over batches: the engine's padded width and
    mean valid count, I-JEPA's truncated width and its mean count before truncation."""
    from ijepa_reference import MaskCollator

    from jepa_core.masking import create_masker
    from jepa_core.tokens import TokenLayout

    masker = create_masker(cfg.mask)
    collator = MaskCollator(grid, min_keep=cfg.mask.min_keep, keep_all=True)
    sums = np.zeros(6)
    for s in range(batches):
        ms = masker(batch, TokenLayout((grid, grid)), seed=0, step=s, sample_ids=torch.arange(batch))
        (enc, valid), pred = collator(batch)
        sums += (ms.context_idx.shape[1], ms.context_valid.sum(1).double().mean(), ms.target_idx.shape[2],
                 valid.sum(1).min(), valid.sum(1).double().mean(), pred[0].shape[1])
    e_kc, e_valid, e_kt, r_kc, r_all, r_kt = (round(float(v), 1) for v in sums / batches)
    return {"engine_context": e_kc, "engine_context_valid": e_valid, "engine_target": e_kt,
            "ijepa_context": r_kc, "ijepa_context_before_truncation": r_all, "ijepa_target": r_kt}


def data_path(tmp: Path, size: int, file_size: int, suffix: str, count: int, batch: int,
              workers: int, device: torch.device) -> dict:
    """Images/s through listing, decode + resize in workers, and the on-device crop."""
    rng = np.random.default_rng(0)
    root = tmp / f"{suffix[1:]}_{file_size}"
    root.mkdir(parents=True)
    for i in range(count):
        base = rng.integers(0, 256, (file_size // 8, file_size // 8, 3), dtype=np.uint8)
        Image.fromarray(base).resize((file_size, file_size), Image.Resampling.BICUBIC).save(
            root / f"{i:05d}{suffix}", quality=90)
    opts = build_config({"modality": "image"}, {"options": {"image_size": size}}).options
    from modalities.image.options import ImageOptions

    o = ImageOptions(**opts)
    tic = time.perf_counter()
    items = list_items(root, o.patch_size, verify=True)
    listing = time.perf_counter() - tic
    loader = DataLoader(ImageDataset(items, o, str(root)), batch_size=batch, num_workers=workers)
    tic = time.perf_counter()
    n = sum(len(b["image"]) for b in loader)
    decode = n / (time.perf_counter() - tic)
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, device=device)
    reps = 20
    _sync(device)
    tic = time.perf_counter()
    for r in range(reps):
        boxes = crop_boxes(torch.arange(batch) + r * batch, r, 0, (0.3, 1.0), (0.75, 4 / 3), False)
        resized_crop(images, boxes)
    _sync(device)
    crop = reps * batch / (time.perf_counter() - tic)
    return {"files": count, "file_px": file_size, "format": suffix, "image_size": size,
            "workers": workers, "listing_files_per_s": round(count / listing, 1),
            "decode_images_per_s": round(decode, 1), "augment_images_per_s": round(crop, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--only", nargs="+", choices=sorted(SETTINGS),
                   help="time these settings only (no data path) and update their rows in the json")
    args = p.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    result = {"device": str(device), "device_name": torch.cuda.get_device_name(device)
              if device.type == "cuda" else platform.processor() or platform.machine(),
              "torch": torch.__version__, "threads": torch.get_num_threads(), "steps": args.steps,
              "settings": {}, "data": []}
    for name, setting in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        ours, cfg, opts = engine_step(setting, device)
        bf16 = bool(setting.get("bf16"))
        ref, timing = reference_step(cfg, opts, setting["batch"], device, bf16=bf16)
        ref_all, _ = reference_step(cfg, opts, setting["batch"], device, keep_all=True, bf16=bf16)
        times = time_interleaved({"engine": ours, "ijepa_eager": ref, "ijepa_keep_all": ref_all},
                                 args.steps, args.warmup, device)
        e, r = statistics.median(times["engine"]), statistics.median(times["ijepa_eager"])
        r_all = statistics.median(times["ijepa_keep_all"])
        c = statistics.median(timing["collator_s"][args.warmup:])
        row = {"batch": setting["batch"], "image_size": opts.image_size, "patch": opts.patch_size,
               "bf16_autocast": bf16,
               "model": {**{k: getattr(cfg.model, k) for k in ("dim", "depth", "heads")},
                         **{f"predictor_{k}": getattr(cfg.predictor, k) for k in ("dim", "depth", "heads")}},
               "engine_ms": round(1000 * e, 1), "ijepa_eager_ms": round(1000 * r, 1),
               "ijepa_collator_ms": round(1000 * c, 1),
               "speedup": round(r / e, 3), "speedup_without_collator": round((r - c) / e, 3),
               "ijepa_keep_all_ms": round(1000 * r_all, 1), "speedup_vs_keep_all": round(r_all / e, 3),
               "engine_images_per_s": round(setting["batch"] / e, 1),
               "mask_tokens": mask_tokens(cfg, opts.grid[0], setting["batch"])}
        result["settings"][name] = row
        print(json.dumps({name: row}), flush=True)
    out = args.out / ("image.json" if device.type == "cpu" else f"image_{device.type}.json")
    if args.only and out.exists():  # keep the other rows of the last full run
        previous = json.loads(out.read_text())
        result = {**previous, "settings": {**previous["settings"], **result["settings"]}}
        out.write_text(json.dumps(result, indent=2))
        print(f"updated {out}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for size, file_size, suffix, count, batch in ((32, 32, ".png", 512, 64), (224, 256, ".jpg", 128, 8)):
            row = data_path(Path(tmp), size, file_size, suffix, count, batch, args.workers, device)
            result["data"].append(row)
            print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
