"""The ``jepa`` command: info, modalities, components, pretrain, embed, probe, plot, bench.

Results go to stdout (one JSON object for ``probe``); logs and progress bars to stderr.
Bad input ends with one ``error: ...`` line and exit status 2, never a stack trace.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import warnings
from pathlib import Path

import numpy as np


def _warning_line(message, category, filename, lineno, file=None, line=None):
    print(f"warning: {message}", file=sys.stderr)


def parse_probe_c(text: str) -> float | None:
    """``--c``: a positive float, or ``auto`` (``None``: cross-validated)."""
    if text == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"--c expects a positive number or 'auto', got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jepa", description="JEPA pretraining for any modality.")
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("info", help="versions, compiled ops, triton, devices, plugins")
    sub.add_parser("modalities", help="registered modality plugins and where they come from")
    sub.add_parser("components", help="every registered component (modalities, maskers, objective "
                                      "terms, targets, predictors, poolings, methods) and its source")

    pt = sub.add_parser("pretrain", help="pretrain an encoder on a modality's data")
    pt.add_argument("modality")
    pt.add_argument("--data", help="file or folder (default: the plugin's embedded demo data)")
    pt.add_argument("--out", required=True, help="run directory")
    pt.add_argument("--config", help="YAML config file (sections: data, mask, model, target, ...)")
    pt.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config value, e.g. --set optim.lr=3e-4 (repeatable)")
    g = pt.add_mutually_exclusive_group()
    g.add_argument("--epochs", type=int, help="train for this many epochs in all")
    g.add_argument("--steps", type=int, help="train for this many steps in all")
    pt.add_argument("--batch-size", type=int, help="global batch size (split over ranks)")
    pt.add_argument("--device", choices=["auto", "cpu", "cuda"])
    pt.add_argument("--resume", action="store_true",
                    help="continue from the run's newest intact checkpoint (a new run if --out is empty)")
    pt.add_argument("--force", action="store_true",
                    help="write the run into a non-empty --out that is not a run (its files named like "
                         "a run's are replaced); never needed for a new or empty directory")
    pt.add_argument("--stop-after", type=int, metavar="STEPS",
                    help="end this invocation after STEPS steps (checkpointed); --resume goes on")
    pt.add_argument("--ignore-columns", help="tabular: comma-separated columns pretraining never "
                                             "sees (sets options.ignore_columns)")
    pt.add_argument("--probe-label", help="online probe: score the target encoder on this label every "
                                          "logging.probe_every steps (sets logging.probe_label)")
    pt.add_argument("--probe-data", help="the online probe's data (default: --data; sets "
                                         "logging.probe_data)")

    em = sub.add_parser("embed", help="embed a dataset with a trained run")
    em.add_argument("run_dir")
    em.add_argument("--data", help="file or folder (default: the data the run was pretrained on)")
    em.add_argument("--out", required=True, help="output file, .npy or .parquet")
    em.add_argument("--batch-size", type=int, default=256)
    em.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    em.add_argument("--tokens", action="store_true",
                    help="per-token features [N, tokens, D] (modalities with a token grid)")

    pr = sub.add_parser("probe", help="linear, kNN or attentive probe: pretrained vs random init vs raw")
    pr.add_argument("run_dir")
    pr.add_argument("--data", help="file or folder (default: the data the run was pretrained on)")
    pr.add_argument("--label", required=True, help="label column (tabular) or labels folder/file")
    pr.add_argument("--task", choices=["classification", "regression"])
    pr.add_argument("--batch-size", type=int, default=256)
    pr.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    pr.add_argument("--seed", type=int, default=0, help="seed of the held-out split, the --shots draw and the attentive probe")
    pr.add_argument("--c", type=parse_probe_c, default=1.0, metavar="C|auto",
                    help="logistic probe's inverse L2 strength, or 'auto' to cross-validate it "
                         "on the training part (default 1)")
    pr.add_argument("--probe", choices=["linear", "knn", "attentive"], default="linear",
                    help="linear (logistic/ridge), knn (k=20, cosine, DINO weighting) or attentive "
                         "(cross-attention pooler over the tokens; sample-level labels)")
    pr.add_argument("--shots", type=int, metavar="K",
                    help="few-shot: K labelled training samples per class (the test split unchanged)")

    pl = sub.add_parser("plot", help="PNG of loss, lr, collapse monitors and online probe vs step")
    pl.add_argument("run_dir")
    pl.add_argument("--out", help="PNG path (default: RUN/metrics.png)")

    be = sub.add_parser("bench", help="kernel and training benchmarks against eager PyTorch")
    be.add_argument("which", nargs="?", default="all", choices=["masking", "attention", "train", "all"])
    be.add_argument("--device", choices=["cpu", "cuda"], default=None)
    be.add_argument("--out", default="benchmarks/results")
    be.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    return p


def cmd_info(args) -> int:
    import torch

    from . import __version__
    from .ops import attention_backend, capabilities, masking_backend, triton_version
    from .registry import list_modalities

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    info = {
        "jepa_core": __version__, "python": platform.python_version(), "torch": torch.__version__,
        "torch_cuda": torch.version.cuda, "triton": triton_version(), "numpy": np.__version__,
        "compiled": capabilities(),
        "attention": {d: attention_backend(d) for d in devices},
        "masking": {d: masking_backend(d) for d in devices},
        "devices": ["cpu"] + [f"cuda:{i} ({torch.cuda.get_device_name(i)})"
                              for i in range(torch.cuda.device_count())],
        "modalities": list_modalities(),
    }
    print(json.dumps(info, indent=2))
    return 0


def cmd_modalities(args) -> int:
    from .registry import get_registry, list_modalities

    for name, source in list_modalities().items():
        print(f"{name}\t{source}")
    for name, reason in get_registry("modality").failures().items():
        print(f"{name}\tfailed to load: {reason}")
    return 0


def cmd_components(args) -> int:
    """One line per component, ``KIND<TAB>NAME<TAB>SOURCE``; plugins that failed to load
    are listed too, with ``failed to load: REASON`` as their source."""
    from .registry import REGISTRIES

    for kind, registry in REGISTRIES.items():
        for name, source in registry.list().items():
            print(f"{kind}\t{name}\t{source}")
        for name, reason in registry.failures().items():
            print(f"{kind}\t{name}\tfailed to load: {reason}")
    return 0


def _pick_device(requested: str, env):
    """:func:`~jepa_core.train.pick_device`, with a missing device as a :class:`ConfigError`."""
    from .config import ConfigError
    from .train import pick_device

    try:
        return pick_device(requested, env)
    except RuntimeError as e:  # --device cuda without CUDA
        raise ConfigError(str(e)) from None


def _resolve_config(args, plugin):
    from .config import build_config, load_yaml, parse_overrides, to_dict
    from .run import RunDir, RunError

    run = RunDir(args.out)
    run.check_writable(args.resume, getattr(args, "force", False))
    flags: dict = {}
    if args.epochs is not None:
        flags["optim"] = {"epochs": args.epochs, "steps": None}
    if args.steps is not None:
        flags["optim"] = {"steps": args.steps, "epochs": None}
    if args.device:
        flags.setdefault("optim", {})["device"] = args.device
    if args.batch_size is not None:
        flags["data"] = {"batch_size": args.batch_size}
    if args.ignore_columns is not None:
        flags["options"] = {"ignore_columns": [c.strip() for c in args.ignore_columns.split(",") if c.strip()]}
    if args.data:
        flags.setdefault("data", {})["path"] = args.data
    for name in ("probe_label", "probe_data"):
        if getattr(args, name, None):
            flags.setdefault("logging", {})[name] = getattr(args, name)
    overrides = parse_overrides(args.overrides)

    if args.resume and run.exists():
        if run.modality() != args.modality:
            raise RunError(f"{run.path} is a {run.modality()!r} run; cannot resume it as {args.modality!r}")
        saved, state = run.read()
        return build_config(to_dict(saved), flags, overrides), state
    file_layer = load_yaml(args.config) if args.config else {}
    cfg = build_config({"modality": args.modality}, plugin.default_config(), file_layer, flags, overrides)
    if cfg.modality != args.modality:
        raise RunError(f"the config is for modality {cfg.modality!r}, not {args.modality!r}")
    return cfg, None


def cmd_pretrain(args) -> int:
    """Everything is checked (config, data, model, masker on the grid, step count) before the
    run directory is written; rank 0 then holds the run's lock until training ends."""
    import contextlib

    import torch.distributed as dist

    from .config import ConfigError
    from .registry import create_modality
    from .run import RunDir, RunError, build_model
    from .train import EpochBatches, Trainer, env_from_launcher, init_distributed, shutdown_distributed
    from .train.online_probe import OnlineProbe

    if args.stop_after is not None and args.stop_after < 1:
        raise ConfigError(f"--stop-after must be at least 1, got {args.stop_after}")
    env = env_from_launcher()
    plugin = create_modality(args.modality)
    run = RunDir(args.out)
    cfg, state = _resolve_config(args, plugin)
    was_run = run.exists()
    device = _pick_device(cfg.optim.device, env)
    init_distributed(env, device, cfg.dist.backend, cfg.dist.timeout_s)
    try:
        if cfg.target.kind == "frozen" and state is None and cfg.target.frozen_run:
            state = RunDir(cfg.target.frozen_run).read()[1]  # the teacher's data transform
        path = cfg.data.path = cfg.data.path or plugin.demo_data()
        dataset, state = plugin.load(path, cfg, state)
        probe = OnlineProbe.from_config(cfg, plugin, state, device) if env.is_main else None
        model = build_model(cfg, plugin, state)
        batches = EpochBatches(dataset, plugin.collate, cfg.data.batch_size, env, cfg.optim.seed,
                               cfg.data.num_workers)
        trainer = Trainer(model, cfg, batches, run, env, device, online_probe=probe)
        with run.lock() if env.is_main else contextlib.nullcontext():
            if env.is_main:
                if run.exists() != was_run:
                    raise RunError(f"{run.path} was made a run by another process while this one was "
                                   "checking its input; pass --resume to continue it or choose another --out")
                run.write(cfg, state)
            if env.distributed:
                dist.barrier()
            if env.is_main:
                print(f"pretraining {cfg.modality} on {path}: {len(dataset)} samples, "
                      f"{trainer.total_steps} steps of {cfg.data.batch_size} on {device} "
                      f"x{env.world_size} -> {run.path}", file=sys.stderr)
            result = trainer.fit(resume=args.resume, stop_after=args.stop_after)
        if env.is_main:
            print(json.dumps({"run_dir": str(run.path), "steps": result.end_step,
                              "final_loss": result.final_loss, "samples_per_s": result.samples_per_s}))
    except BaseException:
        shutdown_distributed(barrier=False)  # don't wait for a rank that may be the stalled one
        raise
    shutdown_distributed()
    return 0


def _check_batch_size(size: int) -> None:
    from .config import ConfigError

    if size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {size}")


def cmd_embed(args) -> int:
    import torch

    from .eval import encode_dataset, write_embeddings
    from .modality import DataError
    from .run import load_run
    from .train import DistEnv

    _check_batch_size(args.batch_size)
    run = load_run(args.run_dir)
    device = _pick_device(args.device, DistEnv())
    level = run.plugin.embedding_level
    if args.tokens:
        if run.model.target_encoder.layout is None:
            raise DataError(f"--tokens needs tokens on a fixed grid; modality {run.plugin.name!r} has "
                            "none (its token count varies from sample to sample): drop --tokens for "
                            "one pooled vector per sample")
        level = "token"
    dataset, _ = run.plugin.load(args.data or run.cfg.data.path, run.cfg, run.state)
    feats = encode_dataset(run.model.target_encoder, run.plugin, dataset, level, args.batch_size, device)
    run.check_features(feats)
    path = write_embeddings(feats, args.out)
    print(json.dumps({"out": str(path), "shape": list(feats.shape)}))
    return 0


def cmd_probe(args) -> int:
    from .eval import compare_encoders, few_shot_indices, split_indices
    from .run import build_model, load_run
    from .train import DistEnv

    _check_batch_size(args.batch_size)
    run = load_run(args.run_dir)
    device = _pick_device(args.device, DistEnv())
    data = run.plugin.probe_data(args.data or run.cfg.data.path, args.label, args.task, run.cfg, run.state)
    strat = data.targets if (data.level == "sample" and data.task == "classification") else None
    train, test = split_indices(len(data.targets), strat, seed=args.seed)

    if args.shots is not None:
        if strat is None:
            raise ValueError(f"--shots takes K labelled samples per class, so it needs a sample-level "
                             f"classification label; this one is a {data.level}-level {data.task} label")
        train = few_shot_indices(train, data.targets, args.shots, seed=args.seed)
    random_model = build_model(run.cfg, run.plugin, run.state).eval()
    result = compare_encoders(run.model.target_encoder, random_model.target_encoder, run.plugin, data,
                              args.probe, train, test, c=args.c, seed=args.seed,
                              batch_size=args.batch_size, device=device,
                              check_pretrained=run.check_features)
    if args.shots is not None:
        result["shots"] = args.shots
    print(json.dumps(result))
    return 0


def cmd_plot(args) -> int:
    from .plot import plot_run

    print(plot_run(args.run_dir, args.out))
    return 0


def cmd_bench(args) -> int:
    import importlib

    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    names = ["masking", "attention", "train"] if args.which == "all" else [args.which]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        module = importlib.import_module(f"jepa_core.bench.{name}")
        print(f"benchmark {name} on {device} -> {out}", file=sys.stderr)
        module.run(device, out, quick=args.quick)
    return 0


COMMANDS = {"info": cmd_info, "modalities": cmd_modalities, "components": cmd_components,
            "pretrain": cmd_pretrain,
            "embed": cmd_embed, "probe": cmd_probe, "plot": cmd_plot, "bench": cmd_bench}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jepa`` console script."""
    from .config import ConfigError
    from .modality import DataError
    from .registry import UnknownComponentError
    from .run import RunError
    from .train import TrainingError, TrainingInterrupted
    from .train.checkpoint import CheckpointError

    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():  # restores the caller's warning display afterwards
            warnings.showwarning = _warning_line
            return COMMANDS[args.command](args)
    except TrainingInterrupted as e:
        print(f"interrupted: {e}", file=sys.stderr)
        return 128 + e.signum
    except KeyboardInterrupt:
        print("interrupted: stopped at once (Ctrl-C); a run's newest checkpoint stays whole and "
              "`pretrain --resume` continues from it", file=sys.stderr)
        return 130
    except (CheckpointError, DataError, ConfigError, RunError, TrainingError, UnknownComponentError, FileNotFoundError,
            ValueError) as e:  # ValueError: impossible mask requests, bad sizes, checked up front
        if os.environ.get("JEPA_DEBUG") == "1":
            raise
        print(f"error: {e.args[0] if isinstance(e, LookupError) and e.args else e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
