"""Does V-JEPA pretraining learn motion? Probes on the video demo (direction of motion).

For each setting and seed: ``jepa pretrain video`` on the embedded demo, then the
linear, kNN and attentive probes of the pretrained encoder, its random-init twin, the
raw mean frame, and two single-frame baselines that cannot see motion: the first
frame's raw pixels and the pretrained encoder on the first frame alone (a one-frame
clip). Results are appended to ``video_probe.json`` and ``video_probe.md`` is rewritten.

    nice -n 10 python benchmarks/video_probe.py --name default --seeds 0 1
    nice -n 10 python benchmarks/video_probe.py --name sigreg --seeds 0 1 \
        --set target.kind=none --set objective.sigreg=1.0
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


class FirstFrame(Dataset):
    """Each clip's first (centre-crop) frame alone, as a one-frame clip."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict:
        from modalities.video.sampling import crop_starts

        item = self.dataset[i]
        f = self.dataset.opts.frames_per_clip
        start = int(crop_starts(torch.tensor([item["frames"]]), f)[0])
        frame = item["video"][start:start + 1]
        return {"video": frame.expand(item["video"].shape[0], -1, -1, -1).contiguous(), "frames": 1,
                "error": item["error"]}


def evaluate(run_dir: Path, seed: int) -> dict:
    from jepa_core.eval import compare_encoders, split_indices
    from jepa_core.eval.compare import embed_for_probe, score_probe
    from jepa_core.run import build_model, load_run

    run = load_run(str(run_dir))
    data = run.plugin.probe_data(run.cfg.data.path, "folder", None, run.cfg, run.state)
    train, test = split_indices(len(data.targets), data.targets, seed=0)
    random_model = build_model(run.cfg, run.plugin, run.state).eval()
    first = FirstFrame(data.dataset)
    size = data.dataset.opts.raw_size
    frames = torch.stack([first[i]["video"][0] for i in range(len(first))]).float() / 255.0
    first_raw = F.adaptive_avg_pool2d(frames, size).flatten(1).numpy()
    out = {}
    for kind in ("linear", "knn", "attentive"):
        r = compare_encoders(run.model.target_encoder, random_model.target_encoder, run.plugin, data,
                             kind, train, test, seed=seed)
        feats = embed_for_probe(run.model.target_encoder, run.plugin, first, "sample", kind)
        single = score_probe(kind, feats, data.targets, data.task, ("accuracy",), train, test, seed=seed)
        raw_first = score_probe("linear" if kind == "attentive" else kind, first_raw, data.targets,
                                data.task, ("accuracy",), train, test, seed=seed)
        out[kind] = {"pretrained": r["pretrained"], "random_init": r["random_init"],
                     "raw_mean_frame": r["raw"], "single_frame_encoder": single["accuracy"],
                     "single_frame_raw": raw_first["accuracy"]}
    return out


def write_markdown(entries: list[dict]) -> None:
    lines = ["# Video probes: direction of motion on the demo clips", "",
             "Written by `benchmarks/video_probe.py` (every setting tried, in order). Accuracy on "
             "200 held-out clips of 4 classes (chance 0.25). pre: pretrained encoder (EMA "
             "teacher or the student when there is none); rnd: the same architecture at random "
             "init; mean: the raw mean frame (8x8x3); 1f-enc: the pretrained encoder on the first "
             "frame alone; 1f-raw: that frame's pixels (8x8x3). Attentive probes' raw baselines "
             "are linear probes (no raw tokens).", "",
             "| setting | seed | steps | train s | probe | pre | rnd | mean | 1f-enc | 1f-raw |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        for kind, r in e["probes"].items():
            lines.append(f"| {e['name']} | {e['seed']} | {e['steps']} | {e['train_s']:.0f} | {kind} | "
                         f"{r['pretrained']:.3f} | {r['random_init']:.3f} | {r['raw_mean_frame']:.3f} | "
                         f"{r['single_frame_encoder']:.3f} | {r['single_frame_raw']:.3f} |")
    lines += ["", "Settings (the `--set` flags on top of the plugin defaults; `v1` defaults: "
              "`vjepa` masks, L1, EMA 0.998 -> 1, no regularizer; `current`: EMA 0.99 -> 1, "
              "VICReg covariance 1 and variance hinge 1 added):", ""]
    seen = set()
    for e in entries:
        if e["name"] not in seen:
            seen.add(e["name"])
            base = e.get("defaults", "current")
            lines.append(f"- `{e['name']}` (on the {base} plugin defaults): "
                         f"`{' '.join(e['flags']) or '(no flags)'}`")
    notes = RESULTS / "video_probe_notes.md"
    if notes.is_file():
        lines += ["", notes.read_text().strip()]
    (RESULTS / "video_probe.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--runs", default="/tmp/video_probe_runs")
    ap.add_argument("--epochs", type=int, default=None)
    args = ap.parse_args()
    path = RESULTS / "video_probe.json"
    for seed in args.seeds:
        run_dir = Path(args.runs) / f"{args.name}_s{seed}"
        flags = [x for s in args.sets for x in ("--set", s)]
        cmd = [sys.executable, "-m", "jepa_core.cli", "pretrain", "video", "--out", str(run_dir), "--force",
               "--set", f"optim.seed={seed}", "--set", "logging.progress=false", *flags]
        if args.epochs:
            cmd += ["--epochs", str(args.epochs)]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        train_s = time.perf_counter() - t0
        summary = json.loads([ln for ln in done.stdout.splitlines() if ln.startswith("{")][-1])
        probes = evaluate(run_dir, seed)
        entry = {"name": args.name, "seed": seed, "flags": args.sets, "epochs": args.epochs,
                 "steps": summary["steps"], "final_loss": summary["final_loss"], "train_s": train_s,
                 "defaults": "current", "probes": probes}
        entries = json.loads(path.read_text()) if path.is_file() else []  # others may have written
        entries.append(entry)
        print(json.dumps(entry))
        path.write_text(json.dumps(entries, indent=1) + "\n")
        write_markdown(entries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
