"""One setting of the tabular quality suite on the ``headroom`` tables.

``bench_quality.run`` with ``tables="headroom"``, 2 seeds (``--seeds``), a fixed step
count and at most 5,000 rows per table, the setting's ``KEY=VALUE`` overrides on the
tabular defaults; results in ``OUT/tabular_quality.{json,md,png}``.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_headroom.py vicreg 400 \
        objective.vicreg_variance=1.0 objective.vicreg_covariance=0.04 --out /tmp/headroom_vicreg
"""

from __future__ import annotations

import argparse
import json
import time

from modalities.tabular import bench_quality
from modalities.tabular.quality_tables import SUITES


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", help="the setting's name in the results")
    p.add_argument("steps", type=int, help="pretraining steps per table and seed")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--max-rows", type=int, default=5000)
    p.add_argument("--tables", default="headroom", help="a suite name or comma-separated table names")
    p.add_argument("--out", default=None, help="default: /tmp/headroom_NAME")
    args = p.parse_args()
    tables = args.tables if args.tables in SUITES else args.tables.split(",")
    start = time.time()
    result = bench_quality.run("cpu", args.out or f"/tmp/headroom_{args.name}", tables=tables,
                               seeds=args.seeds, steps=args.steps, max_rows=args.max_rows,
                               settings={args.name: args.overrides},
                               log=lambda line: print(line, f"{time.time() - start:.0f}s", flush=True))
    print(json.dumps(result["settings"][args.name]["bar"]))


if __name__ == "__main__":
    main()
