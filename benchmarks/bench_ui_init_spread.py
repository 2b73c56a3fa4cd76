"""How much the random-init baseline of the ui intent probe moves with the initialisation alone.

``jepa probe`` compares a run's encoder with its random-init twin: the same architecture
built with the run's own ``optim.seed``. This script keeps a kept run's data, config and
split fixed (split seed ``--split-seed``) and builds the random-init encoder with each of
``--init-seeds``, then runs the linear (C = 1) and kNN probes on each; the pretrained
encoder of the run is probed once on the same split. One JSON line per encoder on
stdout. Usage::

    python benchmarks/bench_ui_init_spread.py RUN_DIR --split-seed 1 --init-seeds 0 1 2 3 4 5 6 7
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from jepa_core.eval import compare_encoders  # noqa: E402
from jepa_core.run import build_model  # noqa: E402
from ui_kept_run import kept_run_parser, load_kept_run  # noqa: E402


def main() -> None:
    ap = kept_run_parser(__doc__.splitlines()[0])
    ap.add_argument("--init-seeds", type=int, nargs="+", default=list(range(8)))
    args = ap.parse_args()
    run, data, train, test = load_kept_run(args)
    rows = {"linear": [], "knn": []}
    for init in args.init_seeds:
        cfg = dataclasses.replace(run.cfg, optim=dataclasses.replace(run.cfg.optim, seed=init))
        random_enc = build_model(cfg, run.plugin, run.state).eval().target_encoder
        for kind in rows:
            r = compare_encoders(run.model.target_encoder, random_enc, run.plugin, data, kind, train, test,
                                 seed=args.split_seed)
            rows[kind].append(r["random_init"])
            line = {"run": str(args.run_dir), "split_seed": args.split_seed, "init_seed": init,
                    "run_seed": run.cfg.optim.seed, "probe": kind, "pretrained": r["pretrained"],
                    "random_init": r["random_init"], "raw": r["raw"]}
            print(json.dumps(line), flush=True)
    for kind, accs in rows.items():
        print(json.dumps({"probe": kind, "split_seed": args.split_seed, "random_init_mean": float(np.mean(accs)),
                          "random_init_std": float(np.std(accs, ddof=1)), "random_init_min": min(accs),
                          "random_init_max": max(accs), "n_inits": len(accs)}), flush=True)


if __name__ == "__main__":
    main()
