"""LiDAR benchmark: points/s through read + pillarize + BEV scatter, training samples/s.

Usage: ``python benchmarks/bench_lidar.py --device cpu --out benchmarks/results``
(logic in :mod:`modalities.lidar.bench`; writes ``lidar.json``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from modalities.lidar.bench import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", type=Path, required=True,
                        help="results folder (benchmarks/results holds the committed ones)")
    parser.add_argument("--quick", action="store_true", help="fewer scans and steps")
    args = parser.parse_args()
    print(json.dumps(run(args.device, args.out, quick=args.quick), indent=2))


if __name__ == "__main__":
    main()
