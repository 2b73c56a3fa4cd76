"""The shared start of the scripts that re-probe a kept ui run: its arguments, data and split.

``bench_ui_init_spread.py``, ``bench_ui_student_readout.py`` and
``bench_ui_supervised_ceiling.py`` each read a kept run (``bench_ui_probe.py --keep``), its
probe data for one label and one held-out split, then probe it their own way.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jepa_core.eval import split_indices  # noqa: E402
from jepa_core.run import load_run  # noqa: E402


def kept_run_parser(description: str) -> argparse.ArgumentParser:
    """A parser with ``run_dir``, ``--data``, ``--label`` and ``--split-seed``; add the rest."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("run_dir")
    ap.add_argument("--data", help="the run's data unless given")
    ap.add_argument("--label", default="intent")
    ap.add_argument("--split-seed", type=int, default=0)
    return ap


def load_kept_run(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    """``(run, probe data, train indices, test indices)`` for the parsed ``args``."""
    run = load_run(args.run_dir)
    data = run.plugin.probe_data(args.data or run.cfg.data.path, args.label, None, run.cfg, run.state)
    train, test = split_indices(len(data.targets), data.targets, seed=args.split_seed)
    return run, data, train, test
