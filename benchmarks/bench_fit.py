"""Steps/s of ``jepa pretrain MODALITY`` on its demo data: ``Trainer.fit`` timed in-process.

The flow of ``jepa pretrain`` (plugin, config layers, model, :class:`EpochBatches`,
:class:`Trainer`) with the run directory in a temporary folder; the time is that of
``fit`` alone (data loading included, start-up excluded). Prints one JSON line with
steps/s and the losses logged every ``logging.log_every`` steps, e.g. to compare the
outputs of two versions of the code at a fixed seed.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/bench_fit.py tabular 60 [key=value ...]``
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from jepa_core.config import build_config, parse_overrides
from jepa_core.registry import create_modality
from jepa_core.run import RunDir, build_model
from jepa_core.train import DistEnv, EpochBatches, Trainer


def main() -> None:
    modality, steps, sets = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    plugin = create_modality(modality)
    overrides = parse_overrides(["logging.progress=false", "logging.log_every=10",
                                 "logging.checkpoint_every=100000", f"optim.steps={steps}", *sets])
    cfg = build_config({"modality": modality}, plugin.default_config(), overrides)
    cfg.data.path = plugin.demo_data()
    dataset, state = plugin.load(cfg.data.path, cfg, None)
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir(Path(tmp) / "run")
        run.write(cfg, state)
        env = DistEnv()
        batches = EpochBatches(dataset, plugin.collate, cfg.data.batch_size, env, cfg.optim.seed,
                               cfg.data.num_workers)
        trainer = Trainer(build_model(cfg, plugin, state), cfg, batches, run, env, torch.device("cpu"))
        tic = time.perf_counter()
        trainer.fit()
        seconds = time.perf_counter() - tic
        losses = [m["loss"] for m in map(json.loads, run.metrics.read_text().splitlines())]
    print(json.dumps({"modality": modality, "steps": steps, "num_workers": cfg.data.num_workers,
                      "seconds": round(seconds, 3), "steps_per_s": round(steps / seconds, 3),
                      "losses": losses}))


if __name__ == "__main__":
    main()
