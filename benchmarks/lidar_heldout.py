"""Held-out JEPA loss along a LiDAR run: does pretraining overfit the demo's scans?

For the kept checkpoints of a ``lidar_long.py --keep-every N`` run (and its random init,
step 0) this computes the run's own masked objective (latent loss, and every
regularizer term) in eval mode on two sets of simulated scans: the default demo's 96
scans (``demo_root(96, 0)``, which every run here pretrains on) and 96 scans from
another simulator seed (``demo_root(96, 1)``), which no run ever trains on. The masks
are fixed (``--mask-steps`` mask draws keyed by step and sample index, the same for
every checkpoint and both sets), so each checkpoint is scored on identical problems.
A training loss falling while the held-out loss rises is overfitting to the scans.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/lidar_heldout.py /tmp/lidar6/s6_p4_e60 --name s6_p4_e60
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

RESULTS = Path("benchmarks/results")


def objective_on(model, plugin, dataset, mask_steps: list[int], batch_size: int = 8) -> dict[str, float]:
    """Mean of each objective part over ``dataset`` and ``mask_steps`` (model in eval mode)."""
    model.eval()
    sums: dict[str, float] = {}
    count = 0
    with torch.no_grad():
        for start in range(0, len(dataset) - batch_size + 1, batch_size):
            ids = torch.arange(start, start + batch_size)
            batch = plugin.collate([dataset[i] for i in ids.tolist()])
            for step in mask_steps:
                out = model.masked_step(batch, ids, step)
                parts = {"loss": out.loss, **out.parts}
                for k, v in parts.items():
                    sums[k] = sums.get(k, 0.0) + float(v)
                count += 1
    return {k: round(v / count, 5) for k, v in sums.items()}


def main() -> None:
    from jepa_core.run import load_run
    from lidar_locality import kept_weights
    from modalities.lidar.demo import demo_root

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--name", required=True)
    p.add_argument("--steps", default="", help="comma-separated checkpoint steps (default: all kept)")
    p.add_argument("--mask-steps", default="0,1", help="the mask draws (steps) each checkpoint is scored on")
    args = p.parse_args()
    torch.set_num_threads(1)

    loaded = load_run(args.run)
    cfg, plugin, state, model = loaded.cfg, loaded.plugin, loaded.state, loaded.model
    sets = {"train": demo_root(96, 0), "heldout": demo_root(96, 1)}
    data = {k: plugin.load(str(v / "velodyne"), cfg, state)[0] for k, v in sets.items()}
    mask_steps = [int(s) for s in args.mask_steps.split(",")]
    out = []
    for step, weights in kept_weights(args.run, args.steps, cfg, plugin, state):
        model.load_state_dict(weights, strict=False)
        row = {"step": step, **{k: objective_on(model, plugin, d, mask_steps) for k, d in data.items()}}
        row["gap_latent"] = round(row["heldout"]["latent"] - row["train"]["latent"], 5)
        print(json.dumps(row), flush=True)
        out.append(row)
    path = RESULTS / "lidar_heldout.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[args.name] = out
    path.write_text(json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    main()
