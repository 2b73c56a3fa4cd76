"""Training-step benchmark: tabular pretraining throughput (rows/s) for the default model.

A synthetic table (numeric and categorical columns, some missing values) is pretrained
through the same path as ``jepa pretrain tabular`` (plugin, JEPA model, and the
trainer's own :meth:`~jepa_core.train.Trainer.train_step`) at batch 256, after a few
warm-up steps, with the batches already on the device; ``train.json`` and ``train.png``
are written.
The model is also timed under eager PyTorch and under ``torch.compile`` where it works.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ..config import build_config
from ..registry import create_modality
from ..run import build_model
from ..train import Trainer
from .trainer_steps import bench_trainer, device_batches, synchronize


def synthetic_table(path: Path, rows: int = 4096, seed: int = 0) -> Path:
    """A CSV with 8 numeric and 4 categorical columns and 5% missing values."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((rows, 3))
    frame = {f"x{i}": latent @ rng.standard_normal(3) + 0.3 * rng.standard_normal(rows) for i in range(8)}
    for j in range(4):
        frame[f"c{j}"] = np.array(list("abcdef"))[np.digitize(latent[:, j % 3], [-1, -0.3, 0, 0.3, 1])]
    df = pd.DataFrame(frame)
    df = df.mask(rng.random(df.shape) < 0.05)
    df.to_csv(path, index=False)
    return path


def _time_steps(trainer: Trainer, batches: list, steps: int, warmup: int) -> float:
    trainer.model.train()
    for i in range(warmup + steps):
        if i == warmup:
            synchronize(trainer.device)
            tic = time.perf_counter()
        ids, batch = batches[i % len(batches)]
        trainer.train_step(i, ids, batch)
    synchronize(trainer.device)
    return time.perf_counter() - tic


def run(device: str, out_dir: Path, quick: bool = False, batch_size: int = 256) -> dict:
    """Time pretraining steps of the default tabular model; write train.json/png."""
    dev = torch.device(device)
    plugin = create_modality("tabular")
    steps, warmup = (10, 3) if quick else (50, 5)
    with tempfile.TemporaryDirectory() as tmp:
        csv = synthetic_table(Path(tmp) / "bench.csv")
        cfg = build_config({"modality": "tabular"}, plugin.default_config(),
                           {"data": {"batch_size": batch_size}})
        dataset, state = plugin.load(str(csv), cfg, None)
    results = {"device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda"
               else platform.processor() or platform.machine(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "batch_size": batch_size, "steps": steps,
               "features": dataset[0]["num"].numel() + dataset[0]["cat"].numel(), "runs": {}}
    for mode in ("eager", "compile"):
        model = build_model(cfg, plugin, state)
        if mode == "compile":
            model.encoder.transformer.compile()
            model.predictor.transformer.compile()
        trainer = bench_trainer(model, cfg, dataset, plugin.collate, dev, warmup + steps)
        batches = device_batches(trainer, len(dataset) // batch_size)
        try:
            seconds = _time_steps(trainer, batches, steps, warmup)
        except Exception as e:  # torch.compile needs a C++ toolchain; report, don't fail
            results["runs"][mode] = {"error": f"{type(e).__name__}: {e}"[:300]}
            continue
        results["runs"][mode] = {"rows_per_s": steps * batch_size / seconds,
                                 "ms_per_step": 1000 * seconds / steps}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"train_{dev.type}.json").write_text(json.dumps(results, indent=2))
    _plot(results, out_dir / f"train_{dev.type}.png")
    return results


def _plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = [m for m, r in results["runs"].items() if "rows_per_s" in r]
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.bar(modes, [results["runs"][m]["rows_per_s"] for m in modes], color=["#4c72b0", "#dd8452"][:len(modes)])
    ax.set_ylabel("rows / s")
    ax.set_title(f"tabular pretraining, batch {results['batch_size']}, {results['device']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
