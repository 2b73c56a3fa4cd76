"""One training step of the toy model, for comparing 1 process x 2b with 2 ranks x b.

Run as ``python dist_step.py DATA OUT [--set k=v ...]`` (one process) or under
``torchrun --nproc-per-node=2`` (the same global batch split over two ranks). Rank 0
writes ``OUT/step_w{world_size}.pt`` with the loss, its parts, the (averaged, unsharded)
gradients after backward, the whole state before and after the optimizer step and the
EMA update, and the EMA momentum used.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("out")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()

    plugin = ToyModality()
    cfg = build_config({"modality": "toy"}, plugin.default_config(), parse_overrides(args.overrides))
    env = env_from_launcher()
    device = torch.device("cpu")
    init_distributed(env, device, cfg.dist.backend)
    try:
        dataset, state = plugin.load(args.data, cfg, None)
        model = build_model(cfg, plugin, state).to(device)
        batches = EpochBatches(dataset, plugin.collate, cfg.data.batch_size, env, cfg.optim.seed)
        wrapped = wrap_model(model, cfg.dist, env, device)
        optimizer = build_optimizer(model, cfg.optim)
        set_hyperparameters(optimizer, cfg.optim.lr, 0.0)
        before = {k: v.clone() for k, v in full_state_dict(model).items()}  # on CPU it may alias

        _, ids, batch = next(iter(batches.iterate(0, 1)))
        out = wrapped(batch, ids, 0)
        out.loss.backward()
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
            Path(args.out).mkdir(parents=True, exist_ok=True)
            parts = {k: v.item() for k, v in out.parts.items()}
            torch.save({"loss": out.loss.item(), "parts": parts, "grads": grads, "before": before,
                        "after": after, "momentum": MOMENTUM, "world_size": env.world_size},
                       Path(args.out) / f"step_w{env.world_size}.pt")
    finally:
        shutdown_distributed()


if __name__ == "__main__":
    main()
