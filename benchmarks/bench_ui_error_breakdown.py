"""Where the demo's intent probe errs: accuracy by the fate of each session's side task.

Half of the demo's sessions first do, or begin and abandon, another task of the same app
before the task they end with (the intent). A pooling that forgets the order of events
(the mean) cannot tell "A then B" from "B then A" when both tasks are complete, whatever
the encoder. This script re-draws the demo's side-task fates (``simulate_session``'s
``info``), probes a kept demo run's pretrained encoder, its random-init twin and the raw
baseline with the linear probe (C = 1, as ``jepa probe``) on one held-out split, and
prints the test accuracy of each for the sessions with no side task, an abandoned one
and a completed one. One JSON line per encoder. Usage::

    python benchmarks/bench_ui_error_breakdown.py KEEP/run_demo_1 --split-seed 1
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from jepa_core.eval.compare import embed_for_probe  # noqa: E402
from jepa_core.run import build_model  # noqa: E402
from modalities.ui.demo import NUM_SESSIONS  # noqa: E402
from modalities.ui.simulator import INTENTS, simulate_session  # noqa: E402
from ui_kept_run import kept_run_parser, load_kept_run  # noqa: E402


def side_fates(num: int, seed: int = 0) -> np.ndarray:
    """The side-task fate (``none``/``abandoned``/``done``) of each of ``simulate(num, seed)``'s sessions."""
    names = list(INTENTS)
    fates = []
    for i in range(num):
        info: dict = {}
        simulate_session(names[i % len(names)], np.random.default_rng([seed, i]), info=info)
        fates.append(info["side"])
    return np.array(fates)


def main() -> None:
    ap = kept_run_parser(__doc__.splitlines()[0])
    args = ap.parse_args()
    run, data, train, test = load_kept_run(args)
    fates = side_fates(len(data.targets))
    if len(fates) != NUM_SESSIONS:
        raise SystemExit("this breakdown needs the embedded demo's sessions")
    random_enc = build_model(run.cfg, run.plugin, run.state).eval().target_encoder
    feats = {name: embed_for_probe(enc, run.plugin, data.dataset, data.level, "linear", progress=False)
             for name, enc in (("pretrained", run.model.target_encoder), ("random_init", random_enc))}
    feats["raw"] = data.raw_features
    y = data.targets
    for name, x in feats.items():
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000,
                                                                   random_state=args.split_seed))
        right = model.fit(x[train], y[train]).predict(x[test]) == y[test]
        row = {"run": str(args.run_dir), "split_seed": args.split_seed, "encoder": name,
               "accuracy": float(right.mean())}
        for fate in ("none", "abandoned", "done"):
            sel = fates[test] == fate
            row[fate] = {"n": int(sel.sum()), "accuracy": float(right[sel].mean())}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
