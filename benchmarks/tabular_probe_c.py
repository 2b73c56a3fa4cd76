"""Re-score a finished tabular suite run with the logistic probe's ``C`` fixed and cross-validated.

The suite's classification probe is logistic regression with ``C=1`` on every feature set
(regression already picks its ridge strength by cross-validation). This script loads the
saved runs of ``jepa bench quality tabular --out OUT`` (``OUT/work/SETTING/run_TABLE_sSEED``),
and scores the pretrained encoder, its random-init twin and the raw features with ``C=1`` and
with ``C`` picked by cross-validation on the training part (``jepa probe --c auto``), on the
suite's own split; GBDT on the raw features for reference. No pretraining is repeated.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_probe_c.py /tmp/hr_cli \
        --out benchmarks/results/tabular_headroom/probe_c.json
"""

from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from pathlib import Path

import numpy as np

from modalities.tabular import bench_quality
from modalities.tabular.quality_tables import tables_named

FEATURES = ("pretrained", "random_init", "raw")


def score_run(table, seed: int, csv: Path, run_dir: Path) -> dict:
    """Every feature set with ``C=1`` and cross-validated ``C`` on one saved run."""
    from jepa_core.eval import encode_dataset, score_probe

    run, data, train, test, random_init = bench_quality.load_for_probing(table, seed, csv, run_dir)
    feats = {name: encode_dataset(model.target_encoder, run.plugin, data.dataset, "sample", progress=False)
             for name, model in (("pretrained", run.model), ("random_init", random_init))}
    feats["raw"] = data.raw_features
    row = {"table": table.name, "seed": seed, "task": data.task, "metric": data.metric,
           "gbdt": bench_quality._fit_score(bench_quality._gbdt(data.task, seed), data.raw_features,
                                            data.targets, train, test, data.task)}
    for name, x in feats.items():
        for tag, c in (("c1", 1.0), ("cv", None)):
            if data.task != "classification" and tag == "cv":
                row[f"{name}_{tag}"] = row[f"{name}_c1"]  # ridge already cross-validates
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                row[f"{name}_{tag}"] = float(score_probe("linear", x, data.targets, data.task, (data.metric,),
                                                         train, test, c=c)[data.metric])
    return row


def markdown(rows: list[dict]) -> str:
    cols = [f"{f}_{t}" for t in ("c1", "cv") for f in FEATURES]
    lines = ["| table | metric | " + " | ".join(cols) + " | GBDT |", "|---" * (len(cols) + 3) + "|"]
    tables = list(dict.fromkeys(r["table"] for r in rows))
    means = {}
    for t in tables:
        mine = [r for r in rows if r["table"] == t]
        means[t] = {k: float(np.mean([r[k] for r in mine])) for k in cols + ["gbdt"]}
        lines.append(f"| {t} | {mine[0]['metric']} | " + " | ".join(f"{means[t][k]:.3f}" for k in cols + ["gbdt"])
                     + " |")
    for tag in ("c1", "cv"):
        gain = [m[f"pretrained_{tag}"] - m[f"random_init_{tag}"] for m in means.values()]
        gap = [m[f"pretrained_{tag}"] - m["gbdt"] for m in means.values()]
        lines.append(f"\n{tag}: pretrained - random init {np.mean(gain):+.3f} (>= 0.02 on "
                     f"{sum(g >= 0.02 for g in gain)}/{len(gain)}, above on {sum(g > 0 for g in gain)}), "
                     f"within 0.01 of GBDT on {sum(g >= -0.01 for g in gap)}/{len(gap)} (mean gap {np.mean(gap):+.3f})")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("suite_out", type=Path, help="the --out folder of a finished suite run")
    p.add_argument("--setting", default=None, help="the setting's folder under work/ (default: the only one)")
    p.add_argument("--tables", default="headroom")
    p.add_argument("--out", type=Path, required=True, help="a .json file (and .md beside it)")
    args = p.parse_args()
    work = args.suite_out / "work"
    setting = args.setting or next(d.name for d in work.iterdir() if d.is_dir())
    start, rows = time.time(), []
    for table in tables_named(args.tables):
        for run_dir in sorted((work / setting).glob(f"run_{table.name}_s*")):
            seed = int(re.search(r"_s(\d+)$", run_dir.name).group(1))
            rows.append(score_run(table, seed, work / f"{table.name}.csv", run_dir))
            print(json.dumps(rows[-1]), f"{time.time() - start:.0f}s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"suite_out": str(args.suite_out), "setting": setting, "rows": rows},
                                   indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
