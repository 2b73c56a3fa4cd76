"""The ui intent probe read from a run's student (context encoder) instead of its EMA teacher.

``jepa probe`` reads the teacher. This script probes both encoders of a kept run on the
same split (linear with C = 1, and kNN) and prints one JSON line per probe. Usage::

    python benchmarks/bench_ui_student_readout.py RUN_DIR --split-seed 1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from jepa_core.eval import compare_encoders  # noqa: E402
from ui_kept_run import kept_run_parser, load_kept_run  # noqa: E402


def main() -> None:
    ap = kept_run_parser(__doc__.splitlines()[0])
    args = ap.parse_args()
    run, data, train, test = load_kept_run(args)
    for kind in ("linear", "knn"):
        r = compare_encoders(run.model.encoder, run.model.target_encoder, run.plugin, data, kind, train, test,
                             seed=args.split_seed)
        print(json.dumps({"run": str(args.run_dir), "split_seed": args.split_seed, "probe": kind,
                          "student": r["pretrained"], "teacher": r["random_init"]}), flush=True)


if __name__ == "__main__":
    main()
