"""Probe study of the audio plugin: pretrained vs random init vs raw log-mel, per setting.

Pretrains with ``jepa pretrain audio`` (the plugin defaults plus ``--set`` overrides) on
the synthesized demo, or on recordings from a *different* generator (four other sound
families, 22.05 kHz stereo FLAC, from ``tests/modalities/audio/sounds.py``), then runs
``jepa probe --label folder`` with each ``--probe`` kind (each prints pretrained,
random_init and raw on one held-out split, seed 0). ``other_paired``: six families in
three pairs that differ only in timing, over louder noise. One JSON line per (data, setting,
seed) on stdout. Usage::

    python benchmarks/audio_probe_study.py --data demo other --seeds 0 1 --set optim.epochs=20

``--poolings mean mean_std`` probes each pretrained run once per pooling (a pooling has no
parameters and takes no part in pretraining, so the runs are the same).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

import torch
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jepa_core.cli import main as jepa  # noqa: E402
from tests.modalities.audio.sounds import PAIRED_FAMILIES, write_other_sounds  # noqa: E402


def _run(args: list[str]) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        if jepa(args) != 0:
            raise SystemExit(f"failed: jepa {' '.join(args)}")
    return buf.getvalue()


def _set_pooling(run: Path, pooling: str) -> None:
    """Point the run's ``config.yaml`` at another pooling (evaluation only: no parameters)."""
    path = run / "config.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["pooling"] = {"name": pooling}
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def study(name: str, data: str | None, seed: int, overrides: list[str], probes: list[str],
          out: Path, poolings: list[str] | None = None) -> list[dict]:
    run = out / f"{name}_seed{seed}"
    args = ["pretrain", "audio", "--out", str(run), "--set", f"optim.seed={seed}",
            "--set", "logging.progress=false"] + [a for o in overrides for a in ("--set", o)]
    if data:
        args += ["--data", data]
    tic = time.perf_counter()
    _run(args)
    train_s = round(time.perf_counter() - tic, 1)
    rows = []
    for pooling in poolings or [None]:
        row = {"data": name, "seed": seed, "set": overrides, "train_s": train_s}
        if pooling is not None:
            _set_pooling(run, pooling)
            row["pooling"] = pooling
        for kind in probes:
            result = json.loads(_run(["probe", str(run), "--label", "folder", "--probe", kind]))
            for key in ("pretrained", "random_init", "raw"):
                row[f"{kind}_{key}"] = round(result[key], 4)
            row["n_test"] = result["n_test"]
        rows.append(row)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", default=["demo", "other"], help="demo, other, other_paired, or folders")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--probes", nargs="+", default=["linear", "knn", "attentive"])
    p.add_argument("--per-class", type=int, default=60, help="recordings per family of 'other'")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--poolings", nargs="+", default=None,
                   help="probe each pretrained run with each of these poolings (default: the run's own)")
    args = p.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.data:
            data = None if name == "demo" else name
            if name == "other":
                data = str(write_other_sounds(Path(tmp) / "other", args.per_class, seed=7))
            elif name == "other_paired":
                data = str(write_other_sounds(Path(tmp) / name, args.per_class, seed=7,
                                              families=PAIRED_FAMILIES))
            for seed in args.seeds:
                for row in study(name, data, seed, args.overrides, args.probes, Path(tmp) / "runs",
                                 args.poolings):
                    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())
