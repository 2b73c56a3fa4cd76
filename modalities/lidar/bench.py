"""LiDAR benchmark: points/s through read + pillarize + BEV scatter, and training samples/s.

``run`` writes simulated KITTI scans to a temporary folder, then times

* **read**: :func:`~modalities.lidar.readers.read_scan` of every ``.bin`` (numpy I/O),
* **pillarize**: crop, cell ids, per-point features for one batch
  (:func:`~modalities.lidar.pillars.pillarize`; vectorized, no Python loop over points),
* **bev**: the pillar feature net pooled per pillar with ``scatter`` (:mod:`.scatter`)
  and the scatter into the dense ``[B, C, H, W]`` map (inference mode),

reporting points/s for each stage and for the three together, and **training
samples/s** of the default model with the plugin's ``default_config``: the trainer's own
step (:meth:`~jepa_core.train.Trainer.train_step`: tokenize, mask, encode, EMA target,
predict, loss, backward, AdamW step, EMA update) on batches already on the device.
It writes ``lidar.json`` into ``out_dir`` and returns the same dict.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from jepa_core.bench.trainer_steps import bench_trainer, device_batches, synchronize
from jepa_core.config import build_config
from jepa_core.run import build_model

from .options import LidarOptions
from .pillars import concat_clouds, pillarize
from .plugin import LidarModality
from .readers import read_scan
from .simulator import SensorSpec, write_dataset


def _best(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def _train_rate(folder: Path, device: torch.device, steps: int, batch_size: int) -> dict:
    plugin = LidarModality()
    cfg = build_config(plugin.default_config(), {"modality": "lidar", "data": {"batch_size": batch_size}})
    dataset, state = plugin.load(str(folder), cfg, None)
    trainer = bench_trainer(build_model(cfg, plugin, state), cfg, dataset, plugin.collate, device, steps + 1)
    trainer.model.train()
    batches = device_batches(trainer, steps + 1)
    trainer.train_step(0, *batches[0])  # warm-up
    synchronize(device)
    t = time.perf_counter()
    for i in range(1, steps + 1):
        trainer.train_step(i, *batches[i])
    synchronize(device)
    dt = time.perf_counter() - t
    return {"steps": steps, "batch_size": batch_size, "seconds": dt,
            "samples_per_s": steps * batch_size / dt}


def run(device: str | torch.device, out_dir: str | Path, quick: bool = False) -> dict:
    """Time the LiDAR input path and a training step; write ``out_dir/lidar.json``.

    Args:
        device: ``cpu`` or ``cuda`` (reading and pillarizing stay on the CPU; the BEV
            stage and training run on ``device``).
        out_dir: where ``lidar.json`` goes.
        quick: fewer scans and steps (for tests).
    """
    device = torch.device(device)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    num_scans, batch, repeat, steps = (4, 4, 2, 2) if quick else (16, 8, 5, 10)
    opts = LidarOptions()
    plugin = LidarModality()
    cfg = build_config(plugin.default_config(), {"modality": "lidar"})
    tokenizer = plugin.build_tokenizer(cfg, {"options": opts.__dict__}).to(device).eval()
    with tempfile.TemporaryDirectory() as tmp:
        spec = SensorSpec()
        root = write_dataset(tmp, num_scans, seed=123, spec=spec)
        files = sorted((root / "velodyne").glob("*.bin"))
        read_s = _best(lambda: [read_scan(f) for f in files], repeat)
        stored = sum(len(read_scan(f)) for f in files)
        clouds = [torch.from_numpy(read_scan(f)) for f in files[:batch]]
        raw = concat_clouds(clouds)
        n_batch = len(raw["points"])
        pil_s = _best(lambda: pillarize(raw["points"], raw["batch"], batch, opts), repeat)
        pillars = {k: v.to(device) for k, v in pillarize(raw["points"], raw["batch"], batch, opts).items()}

        def bev() -> None:
            with torch.inference_mode():
                tokenizer.bev(pillars, batch)
            if device.type == "cuda":
                torch.cuda.synchronize()

        bev_s = _best(bev, repeat)
        train = _train_rate(root / "velodyne", device, steps, batch)
    read_rate = stored / read_s
    result = {
        "benchmark": "lidar", "device": str(device), "quick": quick,
        "host": platform.node(), "cpu_threads": torch.get_num_threads(), "torch": torch.__version__,
        "sensor": {"beams": spec.beams, "azimuths": spec.azimuths},
        "grid": {"point_range": opts.point_range, "pillar_size": opts.pillar_size,
                 "bev": list(opts.grid_size()), "tokens": list(opts.token_grid())},
        "read": {"scans": num_scans, "points": stored, "seconds": read_s, "points_per_s": read_rate},
        "pillarize": {"batch": batch, "points": n_batch, "seconds": pil_s, "points_per_s": n_batch / pil_s},
        "bev_scatter": {"batch": batch, "points": n_batch, "seconds": bev_s, "points_per_s": n_batch / bev_s},
        "pipeline_points_per_s": 1.0 / (1.0 / read_rate + pil_s / n_batch + bev_s / n_batch),
        "train": train,
    }
    (out_dir / "lidar.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
