"""LiDAR probe study: how much any training of the encoder moves the per-token linear probe.

Beside the three probes of ``jepa probe`` (pretrained, random init, raw pillar
statistics) it trains the encoder with the probe's labels, for the same number of steps
as the pretraining, once from random init ("supervised") and once from the pretrained
weights ("fine-tuned"), and then probes those features the same way. Supervised training
bounds what this encoder can gain from that much training; fine-tuning shows whether the
pretrained weights are a better start (AD-L-JEPA's own measure). Two gradient-boosted
probes on the raw pillar statistics, of the token alone ("raw_boosted") and of the token,
its eight neighbours and its grid position ("raw_context_boosted"), measure how much a
token's surroundings tell about its class beyond its own cells: the headroom that
context, which JEPA is meant to learn, can claim on these labels. Each number is the mean
over the probe's train/test splits (seeds 0 to ``--seeds`` - 1, 3 by default). Notes in
``results/lidar_probe.md``.

Usage::

    D=$(python -c "from modalities.lidar.demo import demo_root; print(demo_root())")
    jepa pretrain lidar --out runs/bev
    python benchmarks/lidar_probe_study.py runs/bev --data $D/velodyne --label $D/labels \\
        --out benchmarks/results/lidar_probe_study.json
    python benchmarks/lidar_probe_study.py runs/bev --data $D/velodyne --label $D/labels \\
        --steps 600 --out benchmarks/results/lidar_probe_study_600.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.ensemble import HistGradientBoostingClassifier
from torch.utils.data import DataLoader, Dataset, Subset

from jepa_core.cli import parse_probe_c
from jepa_core.eval import encode_dataset, mean_iou, probe_features, split_indices
from jepa_core.modality import ModalityPlugin
from jepa_core.models import Encoder
from jepa_core.run import RunDir, build_model, load_run
from jepa_core.train.checkpoint import LATEST


def train_with_labels(encoder: Encoder, plugin: ModalityPlugin, dataset: Dataset,
                      targets: np.ndarray, train: np.ndarray, steps: int, batch_size: int,
                      lr: float, seed: int) -> Encoder:
    """``encoder`` trained with a linear head on the per-token labels of the ``train`` scans."""
    torch.manual_seed(seed)
    classes = np.unique(targets[targets >= 0])
    y_all = torch.from_numpy(np.where(targets >= 0, np.searchsorted(classes, targets), -1))
    head = torch.nn.Linear(encoder.dim, len(classes))
    opt = torch.optim.AdamW([*encoder.parameters(), *head.parameters()], lr=lr)
    loader = DataLoader(Subset(dataset, train), batch_size=batch_size, shuffle=True,
                        collate_fn=plugin.collate)
    encoder.train()
    step = 0
    while step < steps:
        for batch in loader:
            feats, _ = encoder.token_features(batch)
            loss = F.cross_entropy(head(feats).flatten(0, 1), y_all[batch["index"]].flatten(),
                                   ignore_index=-1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step == steps:
                break
    return encoder.eval()


def neighbourhood(features: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """``[S, N, 9 F + 2]``: each token's features, its 8 neighbours' (zeros off the grid), row, column."""
    s, n, f = features.shape
    h, w = grid
    padded = np.pad(features.reshape(s, h, w, f), ((0, 0), (1, 1), (1, 1), (0, 0)))
    shifted = [padded[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    position = np.broadcast_to(np.stack([rows, cols], -1), (s, h, w, 2)).astype(features.dtype)
    return np.concatenate([*shifted, position], -1).reshape(s, n, -1)


def boosted_probe(features: np.ndarray, targets: np.ndarray, train: np.ndarray,
                  test: np.ndarray) -> float:
    """Mean IoU of a gradient-boosted classifier on per-token features (tokens with a label)."""
    def rows(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keep = targets[idx] >= 0
        return features[idx][keep], targets[idx][keep]

    model = HistGradientBoostingClassifier(max_iter=200, random_state=0).fit(*rows(train))
    x_test, y_test = rows(test)
    return mean_iou(y_test, model.predict(x_test))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--data", required=True, help="scan folder")
    parser.add_argument("--label", required=True, help="label folder")
    parser.add_argument("--steps", type=int, default=None,
                        help="label-training steps (default: the pretraining's)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--c", type=parse_probe_c, default=None, metavar="C|auto",
                        help="the probes' logistic C, as `jepa probe --c` (default auto)")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args()

    run = load_run(args.run_dir)
    latest = RunDir(args.run_dir).checkpoints / LATEST
    steps = args.steps or json.loads(latest.read_text())["step"]
    data = run.plugin.probe_data(args.data, args.label, None, run.cfg, run.state)
    batch_size = run.cfg.data.batch_size

    def fresh() -> Encoder:
        return build_model(run.cfg, run.plugin, run.state).encoder

    def pretrained() -> Encoder:
        enc = fresh()
        enc.load_state_dict(run.model.target_encoder.state_dict())
        return enc

    names = ("pretrained", "random_init", "raw", "supervised", "fine_tuned", "raw_boosted",
             "raw_context_boosted")
    context = neighbourhood(data.raw_features, run.model.encoder.layout.grid)
    scores: dict[str, list[float]] = {k: [] for k in names}
    for seed in range(args.seeds):
        train, test = split_indices(len(data.targets), None, seed=seed)

        def probe(features: np.ndarray) -> float:
            return probe_features(features, data.targets, data.task, "miou", train, test, c=args.c)

        def embed(enc: Encoder) -> np.ndarray:
            return encode_dataset(enc, run.plugin, data.dataset, "token", 32)

        scores["pretrained"].append(probe(embed(pretrained())))
        scores["random_init"].append(probe(embed(fresh())))
        scores["raw"].append(probe(data.raw_features))
        for name, init in (("supervised", fresh), ("fine_tuned", pretrained)):
            enc = train_with_labels(init(), run.plugin, data.dataset, data.targets, train, steps,
                                    batch_size, args.lr, seed)
            scores[name].append(probe(embed(enc)))
        scores["raw_boosted"].append(boosted_probe(data.raw_features, data.targets, train, test))
        scores["raw_context_boosted"].append(boosted_probe(context, data.targets, train, test))
        last = {k: round(v[-1], 4) for k, v in scores.items()}
        print(json.dumps({"seed": seed, **last}), flush=True)

    result = {"run_dir": str(args.run_dir), "metric": "miou", "probe_c": args.c or "auto",
              "label_steps": steps, "lr": args.lr,
              "seeds": args.seeds, **{k: float(np.mean(v)) for k, v in scores.items()},
              "per_seed": scores}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
