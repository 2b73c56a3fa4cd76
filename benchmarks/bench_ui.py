"""UI-trace speed: traces/s through reading + tokenization and through training, default size.

Measures, on the demo traces (1100 simulated sessions), (1) reading and validating the
JSON lines (:func:`modalities.ui.traces.read_sessions`), (2) encoding sessions to event
tensors (hashed n-grams included), (3) collate + the tokenizer's forward at the default
batch (64) and width, and (4) the training step `jepa pretrain ui` runs
(``Trainer.train_step``: masks, encoder, EMA teacher, predictor, loss, backward, AdamW)
with the default config. Writes ``ui.json`` and ``ui.md`` to ``--out``; with ``--screens``
the same on the demo sessions with a simple screenshot per event (``write_demo(screens=True)``,
the screen encoder in the tokenizer), to ``ui_screens.json`` and ``ui_screens.md``.

Usage: ``python benchmarks/bench_ui.py [--device cpu|cuda] [--steps 20] [--screens] [--out benchmarks/results]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from jepa_core.bench.trainer_steps import bench_trainer, device_batches, synchronize
from jepa_core.config import build_config
from jepa_core.registry import create_modality
from jepa_core.run import build_model
from modalities.ui.dataset import UIDataset, collate
from modalities.ui.traces import read_sessions


def _rate(count: int, fn, repeats: int = 3) -> float:
    """Best items/s of ``repeats`` calls of ``fn`` handling ``count`` items each."""
    best = float("inf")
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - tic)
    return count / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    ap.add_argument("--screens", action="store_true", help="demo sessions with a screenshot per event")
    args = ap.parse_args()
    if args.screens:
        from modalities.ui.demo import write_demo

        with tempfile.TemporaryDirectory() as tmp:
            bench(args, str(write_demo(tmp, screens=True)), "ui_screens")
    else:
        bench(args, None, "ui")


def bench(args, path: str | None, name: str) -> None:
    """Time every stage on the traces at ``path`` (None: the demo); write ``name``.json/.md."""
    device = torch.device(args.device)
    plugin = create_modality("ui")
    cfg = build_config({"modality": "ui"}, plugin.default_config(), {"optim": {"amp": False}})
    path = path or plugin.demo_data()
    sessions, state, opts = plugin.read(path, cfg, None)
    n = len(sessions)
    events = sum(len(s.events) for s in sessions)
    read_rate = _rate(n, lambda: read_sessions(path))
    encode_rate = _rate(n, lambda: UIDataset(sessions, state, opts))
    dataset = UIDataset(sessions, state, opts)
    b = cfg.data.batch_size
    tokenizer = plugin.build_tokenizer(cfg, state).to(device)
    batches = [collate([dataset[j] for j in range(i, min(i + b, n))]) for i in range(0, n, b)]

    def tokenize() -> None:
        with torch.no_grad():
            for batch in batches:
                tokenizer({k: v.to(device) for k, v in batch.items()})
        synchronize(device)

    tokenize_rate = _rate(n, tokenize)
    collate_rate = _rate(n, lambda: [collate([dataset[j] for j in range(i, min(i + b, n))])
                                     for i in range(0, n, b)])
    model = build_model(cfg, plugin, state)
    trainer = bench_trainer(model, cfg, dataset, plugin.collate, device, steps=10 * args.steps)
    trainer.model.train()
    feed = device_batches(trainer, args.steps + 3)
    times = []
    for step, (ids, batch) in enumerate(feed):
        synchronize(device)
        tic = time.perf_counter()
        trainer.train_step(step, ids, batch)
        synchronize(device)
        if step >= 3:  # warm-up steps left out
            times.append(time.perf_counter() - tic)
    step_s = statistics.median(times)
    result = {
        "device": str(device), "torch": torch.__version__, "python": platform.python_version(),
        "sessions": n, "events_per_session": round(events / n, 2), "batch": b,
        "model": {"dim": cfg.model.dim, "depth": cfg.model.depth, "heads": cfg.model.heads,
                  "predictor_dim": cfg.predictor.dim, "predictor_depth": cfg.predictor.depth},
        "mask": cfg.mask.name,
        "read_traces_per_s": round(read_rate, 1), "encode_traces_per_s": round(encode_rate, 1),
        "collate_traces_per_s": round(collate_rate, 1), "tokenize_traces_per_s": round(tokenize_rate, 1),
        "train_step_ms": round(1000 * step_s, 1), "train_traces_per_s": round(b / step_s, 1),
        "train_steps_timed": len(times), "screens": bool(state.get("has_screens")),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [
        f"# UI-trace speed ({device.type.upper()}, this machine"
        f"{', a screenshot per event' if args.screens else ''})", "",
        f"`python benchmarks/bench_ui.py --device {device.type} --steps {args.steps}"
        f"{' --screens' if args.screens else ''}` (`{name}.json`), "
        f"`OMP_NUM_THREADS=1` on the shared CPU (absolute numbers depend on the other jobs sharing it). "
        f"Demo traces: {n} sessions, {result['events_per_session']} events each on average; "
        f"default config (batch {b}, encoder {cfg.model.dim} x {cfg.model.depth}, predictor "
        f"{cfg.predictor.dim} x {cfg.predictor.depth}, mask `{cfg.mask.name}`).", "",
        "| stage | traces/s |", "|---|---|",
        f"| read + validate JSON lines | {result['read_traces_per_s']} |",
        f"| encode sessions to event tensors (hashed n-grams{', screenshots read' if args.screens else ''}) "
        f"| {result['encode_traces_per_s']} |",
        f"| collate (pad) into batches | {result['collate_traces_per_s']} |",
        f"| tokenizer forward (embeddings) | {result['tokenize_traces_per_s']} |",
        f"| training step (`Trainer.train_step`, {result['train_step_ms']} ms / batch of {b}) "
        f"| {result['train_traces_per_s']} |", "",
        "Reading and encoding happen once per run (the dataset is encoded when loaded); the "
        "training step bounds the throughput.",
    ]
    (out / f"{name}.md").write_text("\n".join(md) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
