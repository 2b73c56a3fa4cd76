"""Masked-attention benchmark: Triton kernel vs eager vs SDPA (mask / flash) vs FlexAttention.

Usage: ``python benchmarks/bench_attention.py --device cuda --out benchmarks/results``
(the same as ``jepa bench attention``). On ``--device cpu`` only eager and SDPA are timed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from jepa_core.bench.attention import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (the real comparison) or cpu (sanity run)")
    parser.add_argument("--out", type=Path, required=True,
                        help="results folder (benchmarks/results holds the committed ones)")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repetitions")
    args = parser.parse_args()
    result = run(args.device, args.out, quick=args.quick)
    for row in result["rows"]:
        print(json.dumps(row))
    for goal in result.get("goals", []):
        print(json.dumps(goal))


if __name__ == "__main__":
    main()
