"""Probe study of the audio plugin: pretrained vs random init vs raw log-mel, per setting.

Pretrains with ``jepa pretrain audio`` (the plugin defaults plus ``--set`` overrides) on
the synthesized demo, or on recordings from a *different* generator (four other sound
families, 22.05 kHz stereo FLAC, from ``tests/modalities/audio/sounds.py``), then runs
``jepa probe --label folder`` with each ``--probe`` kind (each prints pretrained,
random_init and raw on one held-out split, seed 0). ``other_paired``: six families in
three pairs that differ only in timing, over louder noise. One JSON line per (data, setting,
seed) on stdout. Usage::

    python benchmarks/audio_probe_study.py --data demo other --seeds 0 1 --set optim.epochs=20
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jepa_core.cli import main as jepa  # noqa: E402
from tests.modalities.audio.sounds import PAIRED_FAMILIES, write_other_sounds  # noqa: E402


def _run(args: list[str]) -> str:
    buf = io.StringIO()
    with redirect_stdout(buf):
        if jepa(args) != 0:
            raise SystemExit(f"failed: jepa {' '.join(args)}")
    return buf.getvalue()


def study(name: str, data: str | None, seed: int, overrides: list[str], probes: list[str],
          out: Path) -> dict:
    run = out / f"{name}_seed{seed}"
    args = ["pretrain", "audio", "--out", str(run), "--set", f"optim.seed={seed}",
            "--set", "logging.progress=false"] + [a for o in overrides for a in ("--set", o)]
    if data:
        args += ["--data", data]
    tic = time.perf_counter()
    _run(args)
    row = {"data": name, "seed": seed, "set": overrides, "train_s": round(time.perf_counter() - tic, 1)}
    for kind in probes:
        result = json.loads(_run(["probe", str(run), "--label", "folder", "--probe", kind]))
        for key in ("pretrained", "random_init", "raw"):
            row[f"{kind}_{key}"] = round(result[key], 4)
        row["n_test"] = result["n_test"]
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", nargs="+", default=["demo", "other"], help="demo, other, other_paired, or folders")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--probes", nargs="+", default=["linear", "knn", "attentive"])
    p.add_argument("--per-class", type=int, default=60, help="recordings per family of 'other'")
    p.add_argument("--set", dest="overrides", action="append", default=[])
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
                print(json.dumps(study(name, data, seed, args.overrides, args.probes, Path(tmp) / "runs")),
                      flush=True)


if __name__ == "__main__":
    sys.exit(main())
