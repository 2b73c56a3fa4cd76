"""Where the time of one image training step goes: the engine's step against the eager I-JEPA step.

Wall time per part (masks or collator, teacher / student / predictor forward, backward,
AdamW, EMA update), measured with forward hooks and wrappers around one
``bench_image`` setting, averaged over ``--steps`` steps after one warm-up step. Parts
run one after another, so their sum is about the step; what is left over is the loss,
clipping and the glue between them.

Usage: ``python benchmarks/profile_image_step.py [--setting default_32px] [--steps 3]``
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_image  # noqa: E402


def _time_module(module: torch.nn.Module, label: str, acc: dict) -> None:
    start = {}
    module.register_forward_pre_hook(lambda m, i: start.__setitem__(label, time.perf_counter()))
    module.register_forward_hook(lambda m, i, o: acc.__setitem__(label, acc[label] + time.perf_counter() - start[label]))


def _time_call(obj, name: str, label: str, acc: dict) -> None:
    fn = getattr(obj, name)

    def timed(*args, **kwargs):
        tic = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            acc[label] += time.perf_counter() - tic

    setattr(obj, name, timed)


def _run(step, steps: int, acc: dict) -> dict:
    step()
    acc.clear()
    tic = time.perf_counter()
    for _ in range(steps):
        step()
    out = {"step_ms": round(1000 * (time.perf_counter() - tic) / steps, 1)}
    return {**out, **{k: round(1000 * v / steps, 1) for k, v in acc.items()}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--setting", default="default_32px", choices=sorted(bench_image.SETTINGS))
    p.add_argument("--steps", type=int, default=3)
    args = p.parse_args()
    device = torch.device("cpu")
    setting = bench_image.SETTINGS[args.setting]
    torch.manual_seed(0)
    engine, cfg, opts = bench_image.engine_step(setting, device)
    trainer = next(c.cell_contents for c in engine.__closure__ if hasattr(c.cell_contents, "optimizer"))
    model = trainer.model
    acc: dict = collections.defaultdict(float)
    backward = torch.Tensor.backward

    def timed_backward(self, *a, **k):
        tic = time.perf_counter()
        try:
            return backward(self, *a, **k)
        finally:
            acc["backward"] += time.perf_counter() - tic

    torch.Tensor.backward = timed_backward
    for module, label in ((model.target, "teacher_fwd"), (model.encoder, "student_fwd"),
                          (model.predictor, "predictor_fwd")):
        _time_module(module, label, acc)
    masker = model.masker  # called, not a module: wrap the call
    model.masker = lambda *a, **k: _timed(masker, acc, *a, **k)
    _time_call(trainer.optimizer, "step", "adamw", acc)
    _time_call(model.target, "update", "ema", acc)
    result = {"engine": _run(engine, args.steps, acc)}

    ref_step, timing = bench_image.reference_step(cfg, opts, setting["batch"], device,
                                                  bf16=bool(setting.get("bf16")))
    ref = next(c.cell_contents for c in ref_step.__closure__ if hasattr(c.cell_contents, "predictor"))
    for module, label in ((ref.target, "teacher_fwd"), (ref.encoder, "student_fwd"),
                          (ref.predictor, "predictor_fwd")):
        _time_module(module, label, acc)
    _time_call(ref.opt, "step", "adamw", acc)
    _time_call(ref, "masks", "collator", acc)
    result["ijepa_eager"] = _run(ref_step, args.steps, acc)
    torch.Tensor.backward = backward
    print(json.dumps({args.setting: result}, indent=1))


def _timed(fn, acc: dict, *args, **kwargs):
    tic = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        acc["masks"] += time.perf_counter() - tic


if __name__ == "__main__":
    main()
