"""What a mean-pooled ui encoder can reach on the intent probe when trained on the labels.

A reference for the intent study (``bench_ui_probe.py``), not a pretraining method: the
architecture of a kept run (its config, same width, depth and ``mean`` pooling), built
from its random init (``optim.seed``), is trained with a linear head and cross-entropy on
the intent labels of the probe's training split only, then probed like the others (the
same split, the linear probe with C = 1 on standardized features, and kNN). If this
encoder's linear probe is far above the self-supervised one, mean pooling is not what
caps the pretrained encoder. One JSON line on stdout. Usage::

    python benchmarks/bench_ui_supervised_ceiling.py RUN_DIR --split-seed 1 --epochs 30
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from jepa_core.eval import encode_dataset  # noqa: E402
from jepa_core.eval.compare import score_probe  # noqa: E402
from jepa_core.run import build_model  # noqa: E402
from ui_kept_run import kept_run_parser, load_kept_run  # noqa: E402


def main() -> None:
    ap = kept_run_parser(__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    run, data, train, test = load_kept_run(args)
    torch.manual_seed(run.cfg.optim.seed)
    encoder = build_model(run.cfg, run.plugin, run.state).target_encoder
    encoder.requires_grad_(True)
    classes, y = np.unique(data.targets, return_inverse=True)
    head = torch.nn.Linear(encoder.dim, len(classes))
    params = list(encoder.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.05)
    labels = torch.as_tensor(y)
    train_list = train.tolist()
    for _ in range(args.epochs):
        encoder.train()
        for idx in torch.randperm(len(train_list)).split(64):
            rows = [train_list[i] for i in idx.tolist()]
            batch = run.plugin.collate([data.dataset[i] for i in rows])
            loss = torch.nn.functional.cross_entropy(head(encoder.pooled_features(batch)), labels[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
    encoder.eval()
    feats = encode_dataset(encoder, run.plugin, data.dataset, "sample", progress=False)
    out = {"run": str(args.run_dir), "split_seed": args.split_seed, "init_seed": run.cfg.optim.seed,
           "epochs": args.epochs, "final_loss": loss.item()}
    for kind in ("linear", "knn"):
        out[kind] = score_probe(kind, feats, data.targets, data.task, ("accuracy",), train, test, 1.0,
                                args.split_seed, "cpu")["accuracy"]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
