"""Data-parallel scaling: training samples/s of ``jepa pretrain`` at 1 and 2 processes.

CPU part: the tabular plugin's default model and batch (T-JEPA settings, global batch
128) on its demo data, run as ``python -m jepa_core.cli pretrain tabular`` for one
process and under ``torchrun --nproc-per-node=2`` (gloo) for two, with the same global
batch. samples/s is the median of the per-step rates the trainer logs (forward, backward,
optimizer and EMA update; data loading excluded), after ``--warmup`` steps.

GPU part (only where CUDA is available): the step time of one GPU training the default
model of ``--gpu-modality`` (default lidar) plain vs wrapped in DDP on a one-rank NCCL group,
timing the trainer's own ``Trainer.train_step``.

Usage: ``python benchmarks/bench_scaling.py --out benchmarks/results``
(writes ``scaling_cpu.json``, and ``scaling_gpu.json`` on a CUDA machine).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch


def _pretrain(nproc: int, threads: int, steps: int, run: Path, extra: list[str]) -> dict:
    cli = ["-m", "jepa_core.cli", "pretrain", "tabular", "--out", str(run), "--steps", str(steps),
           "--device", "cpu", "--set", "logging.log_every=1", "--set", "logging.progress=false",
           "--set", f"logging.checkpoint_every={steps + 1}", *extra]
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", *cli]
    else:
        cmd = [sys.executable, *cli]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    tic = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - tic
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    return {"metrics": [json.loads(ln) for ln in (run / "metrics.jsonl").read_text().splitlines()],
            "wall_s": wall}


def cpu_scaling(steps: int, warmup: int, extra: list[str]) -> dict:
    """samples/s of the tabular default model at 1 process (1 and 2 threads) and 2 processes."""
    rows = []
    for nproc, threads in ((1, 1), (1, 2), (2, 1)):
        with tempfile.TemporaryDirectory() as tmp:
            out = _pretrain(nproc, threads, steps, Path(tmp) / "run", extra)
        rates = [m["samples_per_s"] for m in out["metrics"][warmup:]]
        rows.append({"processes": nproc, "threads_per_process": threads,
                     "samples_per_s_median": statistics.median(rates),
                     "samples_per_s_min": min(rates), "samples_per_s_max": max(rates),
                     "steps_timed": len(rates), "wall_s_including_startup": round(out["wall_s"], 2)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    base = rows[0]["samples_per_s_median"]
    for r in rows:
        r["speedup_vs_1x1"] = round(r["samples_per_s_median"] / base, 3)
    return {"benchmark": "scaling", "device": "cpu", "backend": "gloo", "modality": "tabular",
            "model": _tabular_default_model(), "global_batch": 128,
            "steps": steps, "warmup_steps": warmup, "cpu_count": os.cpu_count(),
            "machine": platform.processor() or platform.machine(), "torch": torch.__version__,
            "rows": rows}


def _tabular_default_model() -> str:
    """The tabular plugin's default model, in words (the results name what was timed)."""
    from modalities.tabular import TabularModality

    c = TabularModality().default_config()
    return (f"tabular default (dim {c['model']['dim']}, depth {c['model']['depth']}, "
            f"predictor depth {c['predictor']['depth']})")


def gpu_ddp_overhead(modality: str, steps: int, warmup: int) -> dict:
    """Step time of one GPU, plain model vs DDP on a one-rank NCCL process group."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from jepa_core.bench.trainer_steps import bench_trainer, device_batches
    from jepa_core.config import build_config
    from jepa_core.registry import create_modality
    from jepa_core.run import build_model

    plugin = create_modality(modality)
    cfg = build_config({"modality": modality}, plugin.default_config())
    dataset, state = plugin.load(plugin.demo_data(), cfg, None)
    device = torch.device("cuda", 0)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29533")
    dist.init_process_group("nccl", rank=0, world_size=1, device_id=device)
    result = {"benchmark": "ddp_overhead", "device": torch.cuda.get_device_name(0), "modality": modality,
              "global_batch": cfg.data.batch_size, "rows": []}
    try:
        for wrap in ("plain", "ddp"):
            trainer = bench_trainer(build_model(cfg, plugin, state), cfg, dataset, plugin.collate, device,
                                    warmup + steps)
            if wrap == "ddp":  # the trainer's own step, on the model wrapped as under torchrun
                trainer.wrapped = DistributedDataParallel(trainer.model, device_ids=[0])
            trainer.model.train()
            ids, batch = device_batches(trainer, 1)[0]
            times = []
            for step in range(warmup + steps):
                torch.cuda.synchronize()
                tic = time.perf_counter()
                trainer.train_step(step, ids, batch)
                torch.cuda.synchronize()
                if step >= warmup:
                    times.append(time.perf_counter() - tic)
            ms = statistics.median(times) * 1e3
            result["rows"].append({"wrapper": wrap, "step_ms_median": ms,
                                   "samples_per_s": cfg.data.batch_size / (ms / 1e3)})
    finally:
        dist.destroy_process_group()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="results folder (benchmarks/results holds the committed ones)")
    parser.add_argument("--steps", type=int, default=40, help="steps per run (after warm-up)")
    parser.add_argument("--warmup", type=int, default=5)
    from jepa_core.registry import list_modalities

    parser.add_argument("--gpu-modality", default="lidar", choices=sorted(list_modalities()),
                        help="registered modality whose default model the GPU part trains")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="extra --set for the CPU runs (e.g. a larger model)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    extra = [x for kv in args.overrides for x in ("--set", kv)]
    cpu = cpu_scaling(args.steps + args.warmup, args.warmup, extra)
    (args.out / "scaling_cpu.json").write_text(json.dumps(cpu, indent=1))
    print(json.dumps(cpu, indent=1))
    if torch.cuda.is_available():
        gpu = gpu_ddp_overhead(args.gpu_modality, args.steps, args.warmup)
        (args.out / "scaling_gpu.json").write_text(json.dumps(gpu, indent=1))
        print(json.dumps(gpu, indent=1))
    else:
        print("no CUDA device: the single-GPU DDP vs plain step time was not measured", file=sys.stderr)


if __name__ == "__main__":
    main()
