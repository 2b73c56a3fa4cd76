"""What the tabular encoder's linear probe can reach when the encoder is trained on the label.

A reference for issue 22's bars, not a pretraining method (one recipe, so not a strict
bound). For each table and seed of a finished quality-suite run (``bench_quality.run``'s
``work/`` folder), the run's architecture is rebuilt from its random init (the random-init
twin of the suite), trained end to end with a linear head on the label of the suite's
training split only (cross entropy, or squared error on the standardized label), then read
out exactly like the suite reads every encoder: the ``concat`` sample features, the
suite's linear probe on the same split. Beside it, the suite's own numbers for that run
(pretrained, random init, GBDT on raw features). Where the label-trained encoder's linear
probe reaches the trees, the architecture and read-out can hold what they use and the gap
is the self-supervised objective's; where it stays below (with this one recipe, no
search), a better objective alone is unlikely to close it. One JSON line per table and
seed on stdout. Usage::

    OMP_NUM_THREADS=1 python benchmarks/tabular_supervised_ceiling.py SUITE_OUT --tables headroom \
        --seeds 2 --epochs 100 --lr 1e-3 --val-fraction 0.2

Session 9 of ``benchmarks/results/tabular_quality_study.md`` has the results.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jepa_core.eval import encode_dataset  # noqa: E402
from modalities.tabular.bench_quality import linear_probe, load_for_probing  # noqa: E402
from modalities.tabular.quality_tables import SUITES, tables_named  # noqa: E402


def train_on_labels(encoder, plugin, data, train: np.ndarray, epochs: int, lr: float,
                    batch_size: int, seed: int, val_fraction: float = 0.0) -> dict:
    """Train ``encoder`` and a linear head on ``data``'s label over ``train``.

    With ``val_fraction`` > 0 that part of ``train`` (a fixed draw) is held back, the rest
    trains, and the encoder ends at its epoch of lowest loss on the held-back part (early
    stopping, so a long recipe cannot overfit its way below the short one). Returns the last
    training loss, the chosen epoch and its held-back loss.
    """
    torch.manual_seed(seed)
    encoder.requires_grad_(True)
    classification = data.task == "classification"
    if classification:
        classes, y = np.unique(data.targets, return_inverse=True)
        labels, width = torch.as_tensor(y), len(classes)
    else:
        y = data.targets.astype(np.float64)
        labels, width = torch.as_tensor((y - y[train].mean()) / (y[train].std() + 1e-8)).float(), 1
    with torch.no_grad():
        dim = encoder.pooled_features(plugin.collate([data.dataset[0]])).shape[-1]
    head = torch.nn.Linear(dim, width)
    opt = torch.optim.AdamW(list(encoder.parameters()) + list(head.parameters()), lr=lr, weight_decay=0.05)
    order = np.random.default_rng(seed).permutation(train)
    n_val = int(round(val_fraction * len(order)))
    fit_rows, val_rows = order[n_val:].tolist(), order[:n_val].tolist()

    def loss_on(rows: list[int]) -> torch.Tensor:
        out = head(encoder.pooled_features(plugin.collate([data.dataset[i] for i in rows])))
        target = labels[rows]
        return (torch.nn.functional.cross_entropy(out, target) if classification
                else torch.nn.functional.mse_loss(out.squeeze(-1), target))

    loss = torch.tensor(float("nan"))
    best = {"epoch": epochs, "val_loss": None, "state": None}
    for epoch in range(1, epochs + 1):
        encoder.train()
        for idx in torch.randperm(len(fit_rows)).split(batch_size):
            loss = loss_on([fit_rows[i] for i in idx.tolist()])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if val_rows:
            encoder.eval()
            with torch.no_grad():
                val = float(loss_on(val_rows))
            if best["val_loss"] is None or val < best["val_loss"]:
                best = {"epoch": epoch, "val_loss": val,
                        "state": {k: v.detach().clone() for k, v in encoder.state_dict().items()}}
    if best["state"] is not None:
        encoder.load_state_dict(best["state"])
    encoder.eval()
    return {"final_loss": float(loss.item()), "best_epoch": best["epoch"], "val_loss": best["val_loss"]}


def suite_rows(suite_dir: Path, setting: str) -> dict:
    """The suite's own rows of ``setting`` by ``(table, seed)`` (empty while it still runs)."""
    path = suite_dir / "tabular_quality.json"
    if not path.exists():
        return {}
    rows = json.loads(path.read_text())["settings"][setting]["rows"]
    return {(r["table"], r["seed"]): r for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite_dir", type=Path, help="a finished bench_quality.run output folder")
    ap.add_argument("--setting", default="default", help="the suite setting whose runs to read")
    ap.add_argument("--tables", default="headroom", help="a suite name or table names, comma-separated")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--val-fraction", type=float, default=0.0,
                    help="hold back this part of the training split and stop at its best epoch")
    args = ap.parse_args()
    suite = suite_rows(args.suite_dir, args.setting)
    work = args.suite_dir / "work"
    for table in tables_named(args.tables if args.tables in SUITES else args.tables.split(",")):
        for seed in range(args.seeds):
            start = time.time()
            run, data, train, test, random_init = load_for_probing(
                table, seed, work / f"{table.name}.csv", work / args.setting / f"run_{table.name}_s{seed}")
            encoder = random_init.target_encoder
            fit = train_on_labels(encoder, run.plugin, data, train, args.epochs, args.lr, args.batch_size,
                                  run.cfg.optim.seed, args.val_fraction)
            feats = encode_dataset(encoder, run.plugin, data.dataset, "sample", progress=False)
            row = suite.get((table.name, seed), {})
            print(json.dumps({
                "table": table.name, "seed": seed, "metric": data.metric, "epochs": args.epochs, "lr": args.lr,
                "val_fraction": args.val_fraction,
                "supervised_linear": linear_probe(feats, data, train, test),
                **{k: row.get(k) for k in ("pretrained", "random_init", "gbdt", "mlp_raw")},
                **fit, "seconds": round(time.time() - start, 1)}), flush=True)


if __name__ == "__main__":
    main()
