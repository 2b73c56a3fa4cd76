"""Tabular pretraining throughput (rows/s) for the default model; see jepa_core/bench/train.py."""

import argparse
import json
from pathlib import Path

from jepa_core.bench.train import run

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", required=True, help="results folder (benchmarks/results holds the committed ones)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    print(json.dumps(run(a.device, Path(a.out), a.quick, a.batch_size), indent=2))
