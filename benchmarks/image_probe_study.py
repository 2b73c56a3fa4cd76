"""Probe study of the image plugin: pretrained vs random-init vs raw pixels, per setting.

Pretrains on an ImageFolder (the digits demo, or synthetic ``shapes`` or ``textures``
written to a temporary folder) with the plugin defaults plus ``--set`` overrides, then scores the
linear probe (the core's ``probe_features``, C=1) and a cosine kNN (k=20) on the same
held-out split, for the pretrained encoder and its random-init twin. One JSON line per
(setting, seed) on stdout. Usage::

    python benchmarks/image_probe_study.py --seeds 0 1 --set optim.epochs=10
    python benchmarks/image_probe_study.py --data textures --seeds 0 1
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from jepa_core.cli import main as jepa
from jepa_core.eval import encode_dataset, probe_features, split_indices
from jepa_core.run import build_model, load_run

SHAPES = ("circle", "square", "triangle", "cross")


def write_shapes(root: Path, per_class: int = 300, size: int = 32, seed: int = 0,
                 plain: bool = False) -> Path:
    """An ImageFolder of 4 shape classes: random size, place, colour and a textured background.

    ``plain``: a light shape on a dark background instead (random size, place and grey levels).
    """
    rng = np.random.default_rng(seed)
    for c, shape in enumerate(SHAPES):
        (root / shape).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            bg = rng.integers(0, 40, 3) if plain else rng.integers(0, 256, 3)
            noise = rng.normal(0, 25, (size, size, 3))
            base = np.clip(bg + noise, 0, 255).astype(np.uint8)
            img = Image.fromarray(base)
            d = ImageDraw.Draw(img)
            r = rng.uniform(5, 12)
            cx, cy = rng.uniform(r, size - r, 2)
            fg = tuple(int(v) for v in (bg + 128 + rng.integers(-40, 40, 3)) % 256)
            if plain:
                fg = (int(rng.integers(180, 256)),) * 3
            if shape == "circle":
                d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fg)
            elif shape == "square":
                d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fg)
            elif shape == "triangle":
                d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fg)
            else:
                w = r / 3
                d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fg)
                d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fg)
            img.save(root / shape / f"{i:04d}.png")
    return root


TEXTURES = ("stripes", "checks", "dots", "rings")


def write_textures(root: Path, per_class: int = 300, size: int = 32, seed: int = 0) -> Path:
    """An ImageFolder of 4 texture classes: random period, phase, orientation, colours, noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    for texture in TEXTURES:
        (root / texture).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            period = rng.uniform(4, 10)
            theta = rng.uniform(0, np.pi)
            u = xx * np.cos(theta) + yy * np.sin(theta) + rng.uniform(0, period)
            v = -xx * np.sin(theta) + yy * np.cos(theta) + rng.uniform(0, period)
            if texture == "stripes":
                m = np.sin(2 * np.pi * u / period) > 0
            elif texture == "checks":
                m = (np.sin(2 * np.pi * u / period) > 0) ^ (np.sin(2 * np.pi * v / period) > 0)
            elif texture == "dots":
                m = np.hypot((u % period) - period / 2, (v % period) - period / 2) < period / 4
            else:
                cx, cy = rng.uniform(0, size, 2)
                m = np.sin(2 * np.pi * np.hypot(xx - cx, yy - cy) / period) > 0
            a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
            img = np.where(m[..., None], a, b) + rng.normal(0, 20, (size, size, 3))
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(root / texture / f"{i:04d}.png")
    return root


def knn_accuracy(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, k: int = 20) -> float:
    """Cosine kNN (majority vote of the k nearest training rows)."""
    x = x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)
    sims = x[test] @ x[train].T
    nearest = np.argsort(-sims, axis=1)[:, :k]
    votes = y[train][nearest]
    pred = np.array([np.bincount(v, minlength=y.max() + 1).argmax() for v in votes])
    return float((pred == y[test]).mean())


def study(data: str | None, seed: int, overrides: list[str], out: Path) -> dict:
    run = out / f"seed{seed}"
    args = ["pretrain", "image", "--out", str(run), "--set", f"optim.seed={seed}",
            "--set", "logging.progress=false"] + [a for o in overrides for a in ("--set", o)]
    if data:
        args += ["--data", data]
    tic = time.perf_counter()
    with redirect_stdout(io.StringIO()):
        if jepa(args) != 0:
            raise SystemExit("pretraining failed")
    seconds = time.perf_counter() - tic
    loaded = load_run(run)
    pdata = loaded.plugin.probe_data(loaded.cfg.data.path, "folder", None, loaded.cfg, loaded.state)
    y = pdata.targets
    train, test = split_indices(len(y), y, seed=0)
    feats = {"pretrained": encode_dataset(loaded.model.target_encoder, loaded.plugin, pdata.dataset, "sample"),
             "random_init": encode_dataset(build_model(loaded.cfg, loaded.plugin, loaded.state).eval()
                                           .target_encoder, loaded.plugin, pdata.dataset, "sample"),
             "raw": pdata.raw_features}
    row = {"data": data or "digits", "seed": seed, "set": overrides, "train_s": round(seconds, 1)}
    for name, x in feats.items():
        row[f"linear_{name}"] = round(probe_features(x, y, "classification", "accuracy", train, test), 4)
        row[f"knn_{name}"] = round(knn_accuracy(x, y, train, test), 4)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="'shapes', 'plain_shapes', 'textures' (written to a temp folder) "
                                  "or a folder; default: digits")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data == "shapes":
            data = str(write_shapes(Path(tmp) / "shapes"))
        elif data == "plain_shapes":
            data = str(write_shapes(Path(tmp) / "plain_shapes", plain=True))
        elif data == "textures":
            data = str(write_textures(Path(tmp) / "textures"))
        for seed in args.seeds:
            row = study(data, seed, args.overrides, Path(tmp) / "runs")
            if args.data in ("shapes", "plain_shapes", "textures"):
                row["data"] = args.data
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())
