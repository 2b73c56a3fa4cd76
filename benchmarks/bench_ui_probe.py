"""Intent-probe study of the ui plugin: pretrained vs random init vs raw, per setting and seed.

For each seed: ``jepa pretrain ui`` (the plugin defaults plus ``--set`` overrides, with
``optim.seed`` = the seed) on the demo traces or on the second simulator's
(``tests/modalities/ui/second_sim.py``: other apps, layout and intents), then
``jepa probe --label intent`` with the linear probe, the kNN probe and the linear probe
on 5 shots per intent (split seed = the seed). One JSON line per (data, seed, probe) on
stdout; ``--out`` appends them to a JSON-lines file. Usage::

    nice -n 10 python benchmarks/bench_ui_probe.py --data demo --seeds 0 1 --tag default
    nice -n 10 python benchmarks/bench_ui_probe.py --data second --seeds 0 1 --set mask.name=ui_future
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jepa_core.cli import main as jepa  # noqa: E402
from modalities.ui.demo import write_demo  # noqa: E402
from tests.modalities.ui.second_sim import write_second_sim  # noqa: E402

PROBES = {"linear": ["--probe", "linear"], "knn": ["--probe", "knn"],
          "linear_5shot": ["--probe", "linear", "--shots", "5"]}


def _cli(args: list[str]) -> dict:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = jepa(args)
    if code != 0:
        raise SystemExit(f"jepa {' '.join(args)} failed: {err.getvalue()}")
    return json.loads(out.getvalue().strip().splitlines()[-1])


def _data_flags(data: str, work: Path, num: int | None = None) -> list[str]:
    """``--data`` flags: none for the embedded demo, else a folder written once under ``work``."""
    if data == "demo" and num is None:
        return []
    if data == "demo":
        folder = work / f"demo{num}"
        path = folder / "sessions.jsonl"
        return ["--data", str(path if path.is_file() else write_demo(folder, num=num))]
    folder = work / ("second" if num is None else f"second{num}")
    return ["--data", str(folder if folder.is_dir() else write_second_sim(folder, num=num or 800))]


def run(data: str, seed: int, sets: list[str], work: Path, epochs: int | None,
        pooling: str | None = None, c: str = "1", num: int | None = None,
        probe_num: int | None = None) -> list[dict]:
    """Pretrain on ``data`` with ``seed``, then every probe of :data:`PROBES`.

    ``num`` sessions are pretrained on and probed; with ``probe_num`` the probes run on the
    first ``probe_num`` of them instead (the simulators draw sessions in order, so those
    are the sessions of a ``probe_num``-session draw): more unlabelled sessions for
    pretraining, the same labelled ones for the probes.
    """
    path = _data_flags(data, work, num)
    probe_path = _data_flags(data, work, probe_num) if probe_num else path
    run_dir = work / f"run_{data}_{seed}"
    extra = [x for s in sets for x in ("--set", s)]
    t0 = time.time()
    train = _cli(["pretrain", "ui", *path, "--out", str(run_dir), "--set", f"optim.seed={seed}",
                  "--set", "logging.progress=false", *extra,
                  *(["--epochs", str(epochs)] if epochs else [])])
    seconds = time.time() - t0
    (run_dir / "train.json").write_text(json.dumps({"sets": sets, "epochs": epochs, "seconds": seconds,
                                                    **train}))
    if pooling:
        set_pooling(run_dir, pooling)
    return probe_rows(data, seed, run_dir, probe_path, sets, epochs, seconds, train, c)


def set_pooling(run_dir: Path, pooling: str) -> None:
    """Replace the ``pooling`` section of a run's ``config.yaml`` (probe-time pooling)."""
    import yaml

    cfg_path = run_dir / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["pooling"] = yaml.safe_load(pooling)
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def reprobe(data: str, seed: int, work: Path, pooling: str | None, c: str = "1",
            num: int | None = None) -> list[dict]:
    """Probe a kept run again (after changing its pooling, or with another ``--c``)."""
    run_dir = work / f"run_{data}_{seed}"
    info = json.loads((run_dir / "train.json").read_text())
    if pooling:
        set_pooling(run_dir, pooling)
    rows = probe_rows(data, seed, run_dir, _data_flags(data, work, num), info["sets"], info["epochs"],
                      info["seconds"], info, c)
    return [{**r, "pooling": pooling} for r in rows]


def probe_rows(data, seed, run_dir, path, sets, epochs, seconds, train, c: str = "1") -> list[dict]:
    """Every probe of :data:`PROBES` on a pretrained run, one row each.

    ``c`` is the logistic probes' ``--c`` (a number or ``auto``), the same for all three
    encoders; the kNN probe has none.
    """
    rows = []
    for name, flags in PROBES.items():
        c_flags = ["--c", c] if "linear" in name else []
        r = _cli(["probe", str(run_dir), *path, "--label", "intent", "--seed", str(seed), *flags, *c_flags])
        rows.append({"data": data, "seed": seed, "probe": name, "sets": sets, "epochs": epochs,
                     "c": c if c_flags else None,
                     "pretrain_s": round(seconds, 1), "steps": train["steps"],
                     "final_loss": round(train["final_loss"], 4),
                     **{k: r[k] for k in ("pretrained", "random_init", "raw", "n_train", "n_test")}})
    return rows


def table(path: str) -> str:
    """A markdown table of the rows of a JSON-lines file written by ``--out``."""
    lines = ["| tag | data | seed | epochs | probe | pretrained | random init | raw | gap (pre - rand) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        gap = r["pretrained"] - r["random_init"]
        lines.append(f"| {r['tag']} | {r['data']} | {r['seed']} | {r['epochs'] or 'default'} | {r['probe']} "
                     f"| {r['pretrained']:.3f} | {r['random_init']:.3f} | {r['raw']:.3f} | {gap:+.3f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", metavar="ROWS.jsonl", help="print the markdown table of a rows file and exit")
    ap.add_argument("--data", choices=["demo", "second"], default="demo")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--c", default="1", help="the logistic probes' --c, a number or 'auto' (default: 1)")
    ap.add_argument("--num", type=int, help="sessions to simulate (default: the embedded demo's 1100, "
                    "the second simulator's 800)")
    ap.add_argument("--probe-num", type=int, help="probe on the first N of the --num sessions only "
                    "(default: all of them)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--out", help="JSON-lines file to append the rows to")
    ap.add_argument("--keep", metavar="DIR", help="keep the runs in DIR (default: a temporary folder)")
    ap.add_argument("--reprobe", action="store_true",
                    help="no pretraining: probe the runs kept in --keep again, with --pooling")
    ap.add_argument("--pooling", metavar="YAML", help="probe with this pooling section instead of "
                    "the run's, e.g. '{name: ui_segments, segments: 2}' (the run dir's config.yaml "
                    "is changed)")
    args = ap.parse_args()
    if args.table:
        print(table(args.table))
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        for seed in args.seeds:
            rows = (reprobe(args.data, seed, work, args.pooling, args.c, args.num) if args.reprobe
                    else run(args.data, seed, args.sets, work, args.epochs, args.pooling, args.c, args.num,
                             args.probe_num))
            for row in rows:
                row["tag"] = args.tag
                line = json.dumps(row)
                print(line, flush=True)
                if args.out:
                    with open(args.out, "a") as f:
                        f.write(line + "\n")


if __name__ == "__main__":
    main()
