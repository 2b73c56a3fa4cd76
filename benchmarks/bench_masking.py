"""Masking benchmark: compiled op vs pure-PyTorch reference vs an I-JEPA-style collator.

Usage: ``python benchmarks/bench_masking.py --device cpu --out benchmarks/results``
(the same as ``jepa bench masking``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from jepa_core.bench.masking import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", type=Path, required=True,
                        help="results folder (benchmarks/results holds the committed ones)")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    args = parser.parse_args()
    result = run(args.device, args.out, quick=args.quick)
    for row in result["rows"]:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
