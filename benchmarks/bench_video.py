"""Video pretraining speed: the engine's step against an eager V-JEPA step, and clip decoding.

Times, in one run on this machine, (1) one training step of the video plugin's default
model (8 frames of 32 px, a 4 x 4 x 4 token grid) and of ``vit_tiny_16`` on 16 frames of
64 px through the engine (forward with its on-device temporal and spatial crop, the
``vjepa`` masker, backward, clipping, AdamW, EMA update: ``Trainer.train_step``) against
:mod:`vjepa_reference` at the same sizes, whose per-sample Python mask collator is timed
beside the step; and (2) clips/s decoded in DataLoader workers from ``.npy`` arrays,
frame folders (PNG) and mp4 files (PyAV, resized), against the step's clips/s.

The reference runs every clip under both mask families per step (as V-JEPA does), the
engine one family per clip, so both ms/step and (clip, mask) pairs per second are given.

Usage: ``python benchmarks/bench_video.py [--device cpu|cuda] [--steps N] [--out benchmarks/results]``
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
from vjepa_reference import VJepaStep  # noqa: E402
from timing import time_interleaved  # noqa: E402

from jepa_core.bench.trainer_steps import bench_trainer  # noqa: E402
from jepa_core.config import build_config  # noqa: E402
from jepa_core.masking import create_masker  # noqa: E402
from jepa_core.registry import create_modality  # noqa: E402
from jepa_core.run import build_model  # noqa: E402
from jepa_core.tokens import TokenLayout  # noqa: E402
from modalities.video.dataset import VideoDataset  # noqa: E402
from modalities.video.options import VideoOptions  # noqa: E402
from modalities.video.readers import list_clips  # noqa: E402

SETTINGS = {
    "default_8x32px": {"options": {}, "batch": 32},
    "vit_tiny_16_16x64px": {"options": {"preset": "vit_tiny_16", "image_size": 64, "frames_per_clip": 16},
                            "batch": 4},
}


def engine_step(setting: dict, device: torch.device):
    plugin = create_modality("video")
    cfg = build_config({"modality": "video"}, plugin.default_config(),
                       {"options": setting["options"], "optim": {"amp": False}})
    opts = plugin._opts(cfg, None)  # applies the preset to cfg.model
    model = build_model(cfg, plugin, {"options": dataclasses.asdict(opts)})
    b, s = setting["batch"], opts.image_size
    cfg.data.batch_size = b
    trainer = bench_trainer(model, cfg, [None] * b, list, device, steps=1000)
    trainer.model.train()
    video = torch.randint(0, 256, (b, opts.window, 3, s, s), dtype=torch.uint8, device=device)
    batch = {"video": video, "frames": torch.full((b,), opts.window, device=device), "error": [""] * b}
    step_no = [0]

    def step() -> None:
        ids = torch.arange(b, device=device) + b * step_no[0]
        trainer.train_step(step_no[0], ids, batch)  # the step `jepa pretrain` runs
        step_no[0] += 1

    return step, cfg, opts


def reference_step(cfg, opts: VideoOptions, batch: int, device: torch.device):
    m, p = cfg.model, cfg.predictor
    ref = VJepaStep(opts.grid, opts.tubelet_size, opts.patch_size, m.dim, m.depth, m.heads,
                    p.dim, p.depth, p.heads, m.mlp_ratio, device=device)
    clips = torch.randn(batch, 3, opts.frames_per_clip, opts.image_size, opts.image_size, device=device)
    timing = {"collator_s": []}

    def step() -> None:
        tic = time.perf_counter()
        masks_enc, masks_pred = ref.masks(batch)
        timing["collator_s"].append(time.perf_counter() - tic)
        ref.step(clips, masks_enc, masks_pred)

    return step, timing, ref


def mask_tokens(cfg, opts: VideoOptions, ref: VJepaStep, batch: int, batches: int = 10) -> dict:
    """Mean padded context / target widths: the engine's (one family per clip) vs the reference's."""
    masker = create_masker(cfg.mask)
    sums = np.zeros(2)
    ref_sums = np.zeros((2, 2))
    for s in range(batches):
        ms = masker(batch, TokenLayout(opts.grid), seed=0, step=s, sample_ids=torch.arange(batch))
        sums += (ms.context_idx.shape[1], ms.target_idx.shape[2])
        encs, preds = ref.collator(batch)
        ref_sums += [[e.shape[1], p.shape[1]] for e, p in zip(encs, preds)]
    e = sums / batches
    r = ref_sums / batches
    return {"tokens": int(np.prod(opts.grid)), "engine_context": round(float(e[0]), 1),
            "engine_target": round(float(e[1]), 1),
            "vjepa_short_context": round(float(r[0, 0]), 1), "vjepa_short_target": round(float(r[0, 1]), 1),
            "vjepa_long_context": round(float(r[1, 0]), 1), "vjepa_long_target": round(float(r[1, 1]), 1)}


def write_clips(root: Path, kind: str, count: int, frames: int, size: int) -> None:
    import av

    rng = np.random.default_rng(0)
    root.mkdir(parents=True)
    for i in range(count):
        base = rng.integers(0, 256, (frames, size // 8, size // 8, 3), dtype=np.uint8)
        clip = base.repeat(8, 1).repeat(8, 2)
        if kind == "npy":
            np.save(root / f"{i:04d}.npy", clip)
        elif kind == "png":
            (root / f"{i:04d}").mkdir()
            for t, f in enumerate(clip):
                Image.fromarray(f).save(root / f"{i:04d}" / f"{t:03d}.png")
        else:
            with av.open(str(root / f"{i:04d}.mp4"), "w") as c:
                st = c.add_stream("mpeg4", rate=30)
                st.width = st.height = size
                st.pix_fmt = "yuv420p"
                for f in clip:
                    for p in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                        c.mux(p)
                for p in st.encode():
                    c.mux(p)


def data_path(tmp: Path, kind: str, count: int, frames: int, file_px: int, opts: VideoOptions,
              batch: int, workers: int) -> dict:
    """Clips/s through listing (with verify) and decode + resize in DataLoader workers."""
    root = tmp / f"{kind}_{file_px}"
    write_clips(root, kind, count, frames, file_px)
    tic = time.perf_counter()
    items = list_clips(root, opts)
    listing = time.perf_counter() - tic
    loader = DataLoader(VideoDataset(items, opts, str(root)), batch_size=batch, num_workers=workers)
    tic = time.perf_counter()
    n = sum(len(b["video"]) for b in loader)
    decode = n / (time.perf_counter() - tic)
    return {"format": kind, "clips": count, "file_frames": frames, "file_px": file_px,
            "image_size": opts.image_size, "window": opts.window, "frame_step": opts.frame_step,
            "workers": workers, "listing_clips_per_s": round(count / listing, 1),
            "decode_clips_per_s": round(decode, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    result = {"device": str(device), "device_name": torch.cuda.get_device_name(device)
              if device.type == "cuda" else platform.processor() or platform.machine(),
              "torch": torch.__version__, "threads": torch.get_num_threads(), "steps": args.steps,
              "settings": {}, "data": []}
    for name, setting in SETTINGS.items():
        ours, cfg, opts = engine_step(setting, device)
        ref, timing, ref_model = reference_step(cfg, opts, setting["batch"], device)
        times = time_interleaved({"engine": ours, "vjepa_eager": ref}, args.steps, args.warmup, device)
        e, r = statistics.median(times["engine"]), statistics.median(times["vjepa_eager"])
        c = statistics.median(timing["collator_s"][args.warmup:])
        b = setting["batch"]
        row = {"batch": b, "frames": opts.frames_per_clip, "image_size": opts.image_size,
               "tubelet": [opts.tubelet_size, opts.patch_size, opts.patch_size], "grid": list(opts.grid),
               "model": {**{k: getattr(cfg.model, k) for k in ("dim", "depth", "heads")},
                         **{f"predictor_{k}": getattr(cfg.predictor, k) for k in ("dim", "depth", "heads")}},
               "engine_ms": round(1000 * e, 1), "vjepa_eager_ms": round(1000 * r, 1),
               "vjepa_collator_ms": round(1000 * c, 1),
               "engine_clips_per_s": round(b / e, 1), "vjepa_eager_clips_per_s": round(b / r, 1),
               "engine_clip_masks_per_s": round(b / e, 1), "vjepa_eager_clip_masks_per_s": round(2 * b / r, 1),
               "mask_tokens": mask_tokens(cfg, opts, ref_model, b)}
        result["settings"][name] = row
        print(json.dumps({name: row}), flush=True)
    opts = VideoOptions()
    v_opts = VideoOptions(frame_step=4)  # V-JEPA's sampling rate on a 30 fps file
    with tempfile.TemporaryDirectory() as tmp:
        for kind, count, frames, px, o in (("npy", 256, 16, 32, opts), ("png", 64, 16, 32, opts),
                                           ("mp4", 64, 16, 32, opts), ("mp4", 32, 64, 128, v_opts)):
            row = data_path(Path(tmp), kind, count, frames, px, o, 32, args.workers)
            result["data"].append(row)
            print(json.dumps(row), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / ("video.json" if device.type == "cpu" else f"video_{device.type}.json")
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
