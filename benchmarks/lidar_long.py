"""Longer must not be worse: the LiDAR demo probe along a run of 6x the default steps.

Each invocation pretrains one run on the demo scenes with the online probe
(``--probe-label``, a linear probe on the target encoder's per-token features every
``--probe-every`` steps, step 0 being the random init) and appends its curve, its target
rank / std, learning rate and EMA momentum to ``lidar_long.json``; ``--report`` writes
``lidar_long.md`` and ``lidar_long.png`` from that file.

Usage (the protocol of ``results/lidar_long.md``)::

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/lidar_long.py --name default --epochs 60 \\
        --set options.patch=8
    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/lidar_long.py --name ema0996 --epochs 60 \\
        --set options.patch=8 --set 'target.momentum=[0.996,1.0]'
    python benchmarks/lidar_long.py --report
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

RESULTS = Path("benchmarks/results")


def pretrain(name: str, epochs: int, overrides: list[str], probe_every: int, work: Path,
             cv_steps: list[int] = (), keep_every: int = 0, scans: int = 96, steps: int = 0) -> dict:
    """One run with the online probe; its logged curves (and the ``--c auto`` probe at ``cv_steps``).

    ``keep_every`` (or ``cv_steps``) keeps a checkpoint every that many steps in the run
    folder, for ``lidar_locality.py`` or a later probe. ``scans`` pretrains on a demo of
    that many simulated scans (seed 0: its first 96 are the default demo's); the online
    and ``--c auto`` probes always score the default 96-scan demo, so that runs on more
    scans are compared on the same probe. ``steps`` (if set) replaces ``epochs``.
    """
    import functools
    import math

    import jepa_core.train.trainer as trainer
    from jepa_core.cli import main
    from jepa_core.registry import get_registry
    from lidar_layer_target import LayerAverageTarget
    from lidar_local_nce import CosineNce
    from modalities.lidar.demo import demo_root

    if cv_steps or keep_every:  # keep every checkpoint, so the steps asked for can be read afterwards
        trainer.save_checkpoint = functools.partial(trainer.save_checkpoint, keep=10_000)
        every = functools.reduce(math.gcd, [*cv_steps, keep_every])
        overrides = [*overrides, f"logging.checkpoint_every={every}"]

    get_registry("target").register("ema_layers", LayerAverageTarget, "benchmarks/lidar_long.py")
    get_registry("objective").register("cosine_nce", CosineNce, "benchmarks/lidar_long.py")
    root, data = demo_root(), demo_root(scans)
    run_dir = work / f"{name}_e{epochs}"
    length_flag = ["--steps", str(steps)] if steps else ["--epochs", str(epochs)]
    argv = ["pretrain", "lidar", "--data", str(data / "velodyne"), "--out", str(run_dir), "--force",
            "--device", "cpu", *length_flag, "--probe-label", str(root / "labels"),
            "--probe-data", str(root / "velodyne"),
            "--set", "logging.probe=linear", "--set", f"logging.probe_every={probe_every}",
            "--set", "logging.progress=false"]
    for item in overrides:
        argv += ["--set", item]
    tic = time.perf_counter()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"pretraining failed: {err.getvalue()[-2000:]}")
    run = curves(run_dir, name, epochs, [o for o in overrides if not o.startswith("logging.checkpoint")],
                 probe_every)
    run["scans"] = scans
    run["wall_s"] = round(time.perf_counter() - tic, 1)
    if cv_steps:
        run["probe_cv"] = [(step, cv_probe(run_dir, step)) for step in cv_steps]
    return run


def cv_probe(run_dir: Path, step: int) -> dict:
    """``jepa probe RUN --c auto`` (the README demo probe) on the checkpoint of ``step``."""
    from jepa_core.cli import main
    from jepa_core.train.checkpoint import atomic_write_text, checkpoint_tag
    from modalities.lidar.demo import demo_root

    root = demo_root()
    ckpts = run_dir / "checkpoints"
    latest = (ckpts / "latest.json").read_text()
    atomic_write_text(ckpts / "latest.json", json.dumps({"tag": checkpoint_tag(step)}))
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["probe", str(run_dir), "--c", "auto", "--device", "cpu",
                         "--data", str(root / "velodyne"), "--label", str(root / "labels")])
    finally:
        atomic_write_text(ckpts / "latest.json", latest)
    if code != 0:
        raise SystemExit(f"probe failed: {err.getvalue()[-2000:]}")
    return json.loads(out.getvalue().strip().splitlines()[-1])


def curves(run_dir: Path, name: str, epochs: int, overrides: list[str], probe_every: int) -> dict:
    """The logged curves of a run folder (also of a run stopped before its end)."""
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    probe = [(r["step"], r["probe_miou"]) for r in rows if "probe_miou" in r]
    keys = ("loss", "latent", "recon", "lr", "momentum", "target_rank", "target_std")
    train = [{k: r[k] for k in ("step", *keys) if k in r} for r in rows if "loss" in r]
    return {"name": name, "epochs": epochs, "overrides": overrides, "steps": max(r["step"] for r in rows),
            "probe_every": probe_every, "probe": probe, "train": train}


def length(run: dict) -> str:
    """``720 steps``, or ``stopped at 360 of 720`` for a run stopped early."""
    total = run["epochs"] * run.get("scans", 96) // 8  # demo scans in batches of 8
    return f"stopped at {run['steps']} of {total}" if run.get("stopped") else f"{run['steps']} steps"


def report(runs: list[dict], out: Path, bar: str = "default") -> None:
    """``lidar_long.png``: the curves of ``runs``; the bar is the last probe of the shortest run named ``bar``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, r in enumerate(runs):
        label = f"{r['name']} ({length(r)})"
        style = {"color": plt.cm.tab20(i % 20), "linestyle": "--" if r.get("stopped") else "-"}
        s, v = zip(*r["probe"])
        a.plot(s, v, marker="o", markersize=3, label=label, **style)
        ranks = [(t["step"], t["target_rank"]) for t in r["train"] if t.get("target_rank") is not None]
        if ranks:
            b.plot(*zip(*ranks), label=label, **style)
    default = [r for r in runs if r["name"] == bar and not r.get("stopped")]
    if default:  # the bar: the shortest default run's last probe
        a.axhline(min(default, key=lambda r: r["steps"])["probe"][-1][1], color="gray", linewidth=1,
                  linestyle=":", label="default length's final probe")
    a.set_xlabel("step")
    a.set_ylabel("online linear probe, mean IoU")
    a.set_title("probe along the run (step 0: random init; dashed: stopped early)")
    a.legend(fontsize=7)
    b.set_xlabel("step")
    b.set_ylabel("target effective rank")
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "lidar_long.png", dpi=100)
    plt.close(fig)


def curve_table(runs: list[dict]) -> str:
    """Markdown: one row per probed step, the probe (and target rank) of every run."""
    def rank_at(run: dict, step: int) -> str:
        near = [t for t in run["train"] if t.get("target_rank") is not None and t["step"] <= max(step, 1)]
        return f"{near[-1]['target_rank']:.1f}" if near else "-"

    steps = sorted({s for r in runs for s, _ in r["probe"]})
    head = "| step | " + " | ".join(f"{r['name']}, {length(r)}: probe (target rank)" for r in runs) + " |"
    lines = [head, "|---|" + "---|" * len(runs)]
    for step in steps:
        cells = []
        for r in runs:
            score = dict(r["probe"]).get(step)
            cells.append("" if score is None else f"{score:.3f} ({rank_at(r, step)})")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="default")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--set", action="append", default=[], dest="overrides")
    p.add_argument("--probe-every", type=int, default=60)
    p.add_argument("--work", default="/tmp/lidar_long")
    p.add_argument("--cv-probe-at", default="",
                   help="comma-separated steps whose checkpoints `jepa probe --c auto` scores after the run")
    p.add_argument("--keep-every", type=int, default=0,
                   help="keep a checkpoint every N steps in the run folder (for lidar_locality.py)")
    p.add_argument("--scans", type=int, default=96,
                   help="pretrain on a demo of this many simulated scans (the probes stay on the 96-scan demo)")
    p.add_argument("--steps", type=int, default=0, help="run this many steps instead of --epochs")
    p.add_argument("--report", action="store_true")
    p.add_argument("--only", default="",
                   help="with --report: comma-separated NAME or NAME:EPOCHS of the runs to plot and tabulate")
    p.add_argument("--bar", default="default",
                   help="with --report: the run whose shortest length's final probe is the bar line")
    p.add_argument("--stopped", action="store_true",
                   help="add the curves of the run already in --work (stopped early), without training")
    args = p.parse_args()
    path = RESULTS / "lidar_long.json"
    runs = json.loads(path.read_text()) if path.exists() else []
    if args.report:
        if args.only:
            keep = args.only.split(",")
            runs = [r for r in runs if r["name"] in keep or f"{r['name']}:{r['epochs']}" in keep]
        report(runs, RESULTS, args.bar)
        print(curve_table(runs))
        return
    if args.stopped:
        run = curves(Path(args.work) / f"{args.name}_e{args.epochs}", args.name, args.epochs,
                     args.overrides, args.probe_every)
        run["stopped"] = True
    else:
        cv_steps = [int(s) for s in args.cv_probe_at.split(",") if s]
        run = pretrain(args.name, args.epochs, args.overrides, args.probe_every, Path(args.work), cv_steps,
                       args.keep_every, args.scans, args.steps)
    runs = json.loads(path.read_text()) if path.exists() else []  # again: another run may have ended meanwhile
    runs = [r for r in runs if (r["name"], r["epochs"]) != (run["name"], run["epochs"])] + [run]
    path.write_text(json.dumps(runs, indent=1) + "\n")
    print(json.dumps({k: run.get(k) for k in ("name", "steps", "probe", "probe_cv", "wall_s")}))


if __name__ == "__main__":
    main()
