"""Training-step benchmark: tabular pretraining throughput (rows/s) for the default model.

A synthetic table (numeric and categorical columns, some missing values) is pretrained
through the same path as ``jepa pretrain tabular`` (plugin, JEPA model, trainer step)
at batch 256, after a few warm-up steps; ``train.json`` and ``train.png`` are written.
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
from ..modality import move_to
from ..registry import create_modality
from ..run import build_model
from ..train.optim import build_optimizer


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


def _time_steps(model, optimizer, batches, steps: int, warmup: int) -> float:
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            tic = time.perf_counter()
        ids, batch = batches[i % len(batches)]
        out = model(batch, ids, i)
        optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        optimizer.step()
        model.target.update(model.encoder, 0.996)
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
    batches = []
    for start in range(0, len(dataset) - batch_size + 1, batch_size):
        ids = torch.arange(start, start + batch_size)
        batch = plugin.collate([dataset[int(i)] for i in ids])
        batches.append((ids.to(dev), move_to(batch, dev)))
    results = {"device": str(dev), "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda"
               else platform.processor() or platform.machine(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "batch_size": batch_size, "steps": steps,
               "features": dataset[0]["num"].numel() + dataset[0]["cat"].numel(), "runs": {}}
    for mode in ("eager", "compile"):
        model = build_model(cfg, plugin, state).to(dev)
        optimizer = build_optimizer(model, cfg.optim)
        if mode == "compile":
            model.encoder.transformer.compile()
            model.predictor.transformer.compile()
        try:
            seconds = _time_steps(model, optimizer, batches, steps, warmup)
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
