"""One training step of the toy model, for comparing 1 process x 2b with 2 ranks x b.

Run as ``python dist_step.py DATA OUT CASES.json`` (one process) or under
``torchrun --nproc-per-node=2`` (the same global batch split over two ranks).
``CASES.json`` maps a case name to its ``k=v`` config overrides; every case is one fresh
model and one step in the same process group, so one launch covers them all. For each
case rank 0 writes ``OUT/NAME/step_w{world_size}.pt`` with the loss, its parts, the
(averaged, unsharded) gradients after backward, the whole state before and after the
optimizer step and the EMA update, and the EMA momentum used.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.distributed.tensor import DTensor

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jepa_core.config import build_config, parse_overrides  # noqa: E402
from jepa_core.run import build_model  # noqa: E402
from jepa_core.train import EpochBatches, env_from_launcher, init_distributed, shutdown_distributed  # noqa: E402
from jepa_core.train.optim import build_optimizer, set_hyperparameters  # noqa: E402
from jepa_core.train.parallel import full_state_dict, wrap_model  # noqa: E402
from tests.toy_modality import ToyModality  # noqa: E402

MOMENTUM = 0.9


def one_step(plugin: ToyModality, data: str, overrides: list[str], env, out: Path) -> None:
    """One step of a fresh model under ``overrides``; rank 0 saves what it computed to ``out``."""
    cfg = build_config({"modality": "toy"}, plugin.default_config(), parse_overrides(overrides))
    device = torch.device("cpu")
    dataset, state = plugin.load(data, cfg, None)
    model = build_model(cfg, plugin, state).to(device)
    batches = EpochBatches(dataset, plugin.collate, cfg.data.batch_size, env, cfg.optim.seed)
    wrapped = wrap_model(model, cfg.dist, env, device)
    optimizer = build_optimizer(model, cfg.optim)
    set_hyperparameters(optimizer, cfg.optim.lr, 0.0)
    before = {k: v.clone() for k, v in full_state_dict(model).items()}  # on CPU it may alias

    _, ids, batch = next(iter(batches.iterate(0, 1)))
    result = wrapped(batch, ids, 0)
    result.loss.backward()
    grads = {}
    for name, param in model.named_parameters():
        if param.grad is None:
            continue
        g = param.grad
        grads[name] = (g.full_tensor() if isinstance(g, DTensor) else g).detach().cpu().clone()
    optimizer.step()
    model.target.update(model.encoder, MOMENTUM)
    after = full_state_dict(model)
    if env.is_main:
        out.mkdir(parents=True, exist_ok=True)
        parts = {k: v.item() for k, v in result.parts.items()}
        torch.save({"loss": result.loss.item(), "parts": parts, "grads": grads, "before": before,
                    "after": after, "momentum": MOMENTUM, "world_size": env.world_size},
                   out / f"step_w{env.world_size}.pt")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("cases", help="JSON file: {case name: [k=v overrides]}")
    args = p.parse_args()

    cases = json.loads(Path(args.cases).read_text())
    env = env_from_launcher()
    init_distributed(env, torch.device("cpu"))
    try:
        for name, overrides in cases.items():
            one_step(ToyModality(), args.data, overrides, env, Path(args.out) / name)
    finally:
        shutdown_distributed()


if __name__ == "__main__":
    main()
