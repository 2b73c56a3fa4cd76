"""The quality test's latent-cluster table with a setting's overrides, seeds 0 and 1.

The protocol of ``tests/modalities/tabular/test_quality.py`` (3,000 rows, 30 epochs,
``jepa pretrain tabular --ignore-columns y`` then ``jepa probe RUN --label y``), with
``--set KEY=VALUE`` for each override; prints one JSON line per seed and writes them all
to ``--out``.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_latent_cluster.py ple16 \
        options.numeric_embedding=ple options.ple_bins=16 --out /tmp/latent_ple16.json
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jepa_core.cli import main  # noqa: E402
from tests.modalities.tabular.test_quality import make_latent_cluster_table  # noqa: E402


def score(seed: int, overrides: list[str], work: Path) -> dict:
    """Pretrain and probe on the latent-cluster table of ``seed``; the probe's JSON result."""
    data = make_latent_cluster_table(work / f"table{seed}.csv", rows=3000, seed=seed)
    run = str(work / f"run{seed}")
    argv = ["pretrain", "tabular", "--data", data, "--ignore-columns", "y", "--out", run,
            "--epochs", "30", "--device", "cpu", "--set", "logging.progress=false"]
    for item in overrides:
        argv += ["--set", item]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        if main(argv) != 0:
            raise RuntimeError(f"pretraining failed: {argv}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        if main(["probe", run, "--data", data, "--label", "y", "--device", "cpu"]) != 0:
            raise RuntimeError("probing failed")
    return json.loads(out.getvalue().strip().splitlines()[-1])


def main_() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in args.seeds.split(",")):
            r = score(seed, args.overrides, Path(tmp))
            row = {"name": args.name, "overrides": args.overrides, "seed": seed,
                   **{k: r[k] for k in ("pretrained", "random_init", "raw")}}
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main_()
