"""The ``jepa`` command: info, modalities, components, pretrain, embed, probe, plot, bench.

Results go to stdout (one JSON object for ``probe``); logs and progress bars to stderr.
Bad input ends with one ``error: ...`` line and exit status 2, never a stack trace.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import sys
import warnings
from pathlib import Path

from .export.command import add_export_parser, cmd_export
from .planning.cli import add_plan_parser, cmd_plan

# Nothing heavy is imported at module level: ``jepa --help`` and a mistyped flag answer
# without loading torch or numpy (tests/test_cli_first_hour.py checks it).


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


class _HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` to an option's help when X is a real value (not None/False)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("%(default)" not in text and "default:" not in text and action.option_strings
                and action.default is not None and action.default is not False
                and action.default is not argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


def _command(sub, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=description or help,
                          formatter_class=_HelpFormatter)


# Defaults that come from the modality's config, not from the parser; tests check that
# they match the plugins' default_config().
EPOCHS_HELP = ("the modality's optim.epochs: tabular 30, lidar 10, image 10, video 20, audio 10, "
               "ui 30, world 10")
BATCH_HELP = ("the modality's data.batch_size: tabular 128, lidar 8, image 64, video 32, audio 32, "
              "ui 64, world 64")


EMBED_SET_HELP = ("change how the run reads its data, e.g. --set data.image_size=64 (image: "
                  "embed at another resolution, the encoder resamples its positions); only the "
                  "few options a modality allows here (an error names them) (repeatable)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jepa", description="JEPA pretraining for any modality.",
                                epilog="`jepa COMMAND --help` describes a command.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = _command(sub, "info", "versions, compiled ops, triton, devices, plugins",
                    "Print a JSON object: package, Python, torch and Triton versions, which "
                    "compiled ops are built (C++, CUDA), the attention and masking backends "
                    "per device, the devices and the installed modality plugins.")
    info.add_argument("--brief", action="store_true",
                      help="one line instead of the JSON object")
    _command(sub, "modalities", "registered modality plugins and where they come from",
             "One line per modality plugin: NAME<TAB>SOURCE (its entry point); a plugin "
             "that failed to import is listed with the reason.")
    comps = _command(sub, "components", "every registered component (modalities, maskers, objective "
                                        "terms, targets, predictors, poolings, methods) and its source",
                     "One line per component: KIND<TAB>NAME<TAB>SOURCE; plugins that failed to load "
                     "are listed with the reason.")
    comps.add_argument("--fields", action="store_true",
                       help="add a fourth column: the config keys the component reads, with their "
                            "defaults (mask.num_targets=4, target.momentum=[0.996, 1.0], "
                            "objective.terms.NAME.FIELD=..., options.image_size=224, ...)")

    pt = _command(sub, "pretrain", "pretrain an encoder on a modality's data")
    pt.add_argument("modality", help="tabular, lidar, image, video, audio, ui, world, or an "
                                     "installed plugin's name (`jepa modalities` lists them)")
    pt.add_argument("--data", help="file or folder (default: the plugin's embedded demo data: "
                                   "penguins for tabular, simulated street scans for lidar, "
                                   "handwritten digits for image, moving shapes for video, "
                                   "synthesized sounds for audio, simulated phone sessions for "
                                   "ui, random two-room rollouts for world)")
    pt.add_argument("--out", required=True, help="run directory to create")
    pt.add_argument("--config", help="YAML config file (sections: data, mask, model, target, ...)")
    pt.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a config value, e.g. --set optim.lr=3e-4 (repeatable)")
    g = pt.add_mutually_exclusive_group()
    g.add_argument("--epochs", type=int, help=f"train for this many epochs in all (default: {EPOCHS_HELP})")
    g.add_argument("--steps", type=int, help="train for this many steps in all, instead of --epochs")
    pt.add_argument("--batch-size", type=int,
                    help=f"global batch size, split over ranks (default: {BATCH_HELP})")
    pt.add_argument("--device", choices=["auto", "cpu", "cuda"],
                    help="where to train (default: optim.device, auto: cuda when available)")
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

    em = _command(sub, "embed", "embed a dataset with a trained run")
    em.add_argument("run_dir", help="the --out of a finished `jepa pretrain`")
    em.add_argument("--data", help="file or folder (default: the data the run was pretrained on)")
    em.add_argument("--out", required=True, help="output file, .npy or .parquet")
    em.add_argument("--batch-size", type=int, default=256, help="samples per forward pass")
    em.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="where to run the encoder")
    em.add_argument("--tokens", action="store_true",
                    help="per-token features [N, tokens, D] (modalities with a token grid)")
    em.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help=EMBED_SET_HELP)

    pr = _command(sub, "probe", "linear, kNN or attentive probe: pretrained vs random init vs raw")
    pr.add_argument("run_dir", help="the --out of a finished `jepa pretrain`")
    pr.add_argument("--data", help="file or folder (default: the data the run was pretrained on)")
    pr.add_argument("--label", help="label column or one-column file (tabular), labels folder "
                                    "(lidar), 'folder' (class = sub-folder) or a path,label CSV "
                                    "(image, video, audio), a session field (ui) (default: for a "
                                    "run on the demo data, the demo's labels: tabular 'species', "
                                    "lidar the demo's labels/, 'folder' for image, video and "
                                    "audio, 'intent' for ui)")
    pr.add_argument("--task", choices=["classification", "regression"],
                    help="default: classification for text, boolean or few-valued integer "
                         "labels, else regression; lidar: classification")
    pr.add_argument("--batch-size", type=int, default=256, help="samples per forward pass")
    pr.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                    help="where to run the encoders")
    pr.add_argument("--seed", type=int, default=0,
                    help="seed of the held-out split, the --shots draw and the attentive probe")
    pr.add_argument("--c", type=parse_probe_c, default=1.0, metavar="C|auto",
                    help="logistic probe's inverse L2 strength, or 'auto' to cross-validate it "
                         "on the training part (default: 1)")
    pr.add_argument("--probe", choices=["linear", "knn", "attentive"], default="linear",
                    help="linear (logistic/ridge), knn (k=20, cosine, DINO weighting) or attentive "
                         "(cross-attention pooler over the tokens; sample-level labels)")
    pr.add_argument("--shots", type=int, metavar="K",
                    help="few-shot: K labelled training samples per class (the test split unchanged)")
    pr.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help=EMBED_SET_HELP)

    pl = _command(sub, "plot", "PNG of loss, lr, collapse monitors and online probe vs step")
    pl.add_argument("run_dir", help="the --out of a `jepa pretrain`")
    pl.add_argument("--out", help="PNG path (default: RUN/metrics.png)")

    be = _command(sub, "bench", "kernel and training benchmarks against eager PyTorch",
                  "Time the masking ops, masked attention and training steps against eager "
                  "PyTorch, or (`quality MODALITY`) score pretraining on real data against "
                  "baselines; write JSON + PNG to --out and print a summary table.")
    be.add_argument("which", nargs="?", default="all",
                    choices=["masking", "attention", "train", "quality", "all"],
                    help="which benchmark to run (default: all but quality); quality: does "
                         "pretraining pay off on real data (needs a MODALITY)")
    be.add_argument("modality", nargs="?",
                    help="quality only: the modality whose real-data suite to run (e.g. tabular)")
    be.add_argument("--device", choices=["cpu", "cuda"], default=None,
                    help="default: cuda when available, else cpu")
    be.add_argument("--out", required=True,
                    help="folder for the JSON + PNG results (the committed ones are in "
                         "benchmarks/results; `make bench` rewrites those)")
    be.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    be.add_argument("--suite", metavar="NAME",
                    help="quality only: a named list of the modality's tables (tabular: small, "
                         "the default, or headroom)")
    be.add_argument("--steps", type=int, metavar="N",
                    help="quality only: pretrain every run N steps instead of the suite's epochs")
    add_export_parser(sub, _command)
    add_plan_parser(sub, _command)
    for add_parser, _ in plugin_commands().values():
        add_parser(sub, _command)
    return p


@functools.cache
def plugin_commands() -> dict[str, tuple]:
    """Commands that plugins add, from the ``jepa_core.commands`` entry points.

    Each entry is ``NAME = "module"``; the module defines ``add_NAME_parser(sub, command)``
    and ``cmd_NAME(args) -> int`` and imports nothing heavy at module level. A broken
    entry warns and is left out, as a broken component does.
    """
    import importlib
    from importlib.metadata import entry_points

    found = {}
    for ep in entry_points(group="jepa_core.commands"):
        try:
            module = importlib.import_module(ep.value)
            found[ep.name] = (getattr(module, f"add_{ep.name}_parser"), getattr(module, f"cmd_{ep.name}"))
        except Exception as e:  # a broken plugin must not break the command line
            warnings.warn(f"command plugin {ep.name!r} ({ep.value}) failed to load: {type(e).__name__}: {e}",
                          stacklevel=2)
    return found


def cmd_info(args) -> int:
    import platform

    import numpy as np
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
    if getattr(args, "brief", False):
        print(_brief_info(info))
        return 0
    print(json.dumps(info, indent=2))
    return 0


def _brief_info(info: dict) -> str:
    """One line of ``jepa info``: versions, compiled backends and attention per device."""
    compiled = info["compiled"]
    problem = compiled.get("extension_problem", "not built")
    built = "built" if compiled.get("extension") else f"{problem} (PyTorch references)"
    attention = ", ".join(f"{d} {b}" for d, b in info["attention"].items())
    return (f"jepa-core {info['jepa_core']}, torch {info['torch']} "
            f"({'CUDA ' + info['torch_cuda'] if info['torch_cuda'] else 'CPU'}), "
            f"triton {info['triton'] or 'absent'}; extension {built}; attention: {attention}; "
            f"modalities: {', '.join(info['modalities'])}")


def cmd_modalities(args) -> int:
    from .registry import get_registry, list_modalities

    for name, source in list_modalities().items():
        print(f"{name}\t{source}")
    for name, reason in get_registry("modality").failures().items():
        print(f"{name}\tfailed to load: {reason}")
    return 0


def cmd_components(args) -> int:
    """One line per component, ``KIND<TAB>NAME<TAB>SOURCE``; plugins that failed to load
    are listed too, with ``failed to load: REASON`` as their source. With ``--fields`` a
    fourth column lists the config keys of the component's own section with their
    defaults (a modality's ``options``)."""
    from .registry import REGISTRIES

    for kind, registry in REGISTRIES.items():
        for name, source in registry.list().items():
            fields = f"\t{_component_fields(kind, name)}" if args.fields else ""
            print(f"{kind}\t{name}\t{source}{fields}")
        for name, reason in registry.failures().items():
            print(f"{kind}\t{name}\tfailed to load: {reason}")
    return 0


def _component_fields(kind: str, name: str) -> str:
    """``section.key=default, ...`` of component ``name``'s config (``-``: none)."""
    import dataclasses

    from .config import COMPONENT_SECTIONS, selector, to_dict
    from .registry import get_registry

    cls = get_registry(kind).get(name)
    section = next((s for s, (k, _) in COMPONENT_SECTIONS.items() if k == kind), None)
    if kind == "modality":
        section, schema = "options", getattr(cls, "options_class", None)
    elif kind == "objective":
        section, schema = f"objective.terms.{name}", get_registry(kind).config_class(name)
    elif section is not None:
        schema = get_registry(kind).config_class(name)
    else:
        return "-"
    if schema is None:
        return "-"
    keys = [f.name for f in dataclasses.fields(schema) if f.name != selector(section)]
    try:
        defaults = {k: f"={json.dumps(v)}" for k, v in to_dict(schema()).items()}
    except Exception:  # a field without a default: the names alone
        defaults = {}
    return ", ".join(f"{section}.{k}{defaults.get(k, '')}" for k in keys) or "-"


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
    overrides = plugin.move_data_options(parse_overrides(args.overrides), "--set")

    if args.resume and run.exists():
        if run.modality() != args.modality:
            raise RunError(f"{run.path} is a {run.modality()!r} run; cannot resume it as {args.modality!r}")
        saved, state = run.read()
        _warn_fitted_options(overrides, state, run.state)
        return build_config(to_dict(saved), flags, overrides), state
    file_layer = plugin.move_data_options(load_yaml(args.config), args.config) if args.config else {}
    cfg = build_config({"modality": args.modality}, plugin.default_config(), file_layer, flags, overrides)
    if cfg.modality != args.modality:
        raise RunError(f"the config is for modality {cfg.modality!r}, not {args.modality!r}")
    return cfg, None


def _warn_fitted_options(overrides: dict, state: dict | None, where) -> None:
    """Warn about ``--set options.X`` on ``--resume`` that the run's fitted options override."""
    fitted = (state or {}).get("options")
    given = overrides.get("options")
    if not isinstance(fitted, dict) or not isinstance(given, dict):
        return
    changed = [f"options.{k}={v!r} (fitted: {fitted[k]!r})" for k, v in given.items()
               if k in fitted and v != fitted[k]
               and not (isinstance(v, (list, tuple)) and list(v) == list(fitted[k] or []))]
    if changed:
        warnings.warn(f"{where}: the run keeps the options it was fitted with, so --set "
                      f"{', '.join(changed)} is ignored on --resume; start a new run (another "
                      f"--out) to change them", stacklevel=2)


def cmd_pretrain(args) -> int:
    """Everything is checked (config, data, model, masker on the grid, step count) before the
    run directory is written; rank 0 then holds the run's lock until training ends."""
    import contextlib

    import torch.distributed as dist

    from .config import ConfigError
    from .registry import create_modality
    from .run import RunDir, RunError, build_model, check_resume_fits
    from .train import (EpochBatches, Trainer, env_from_launcher, init_distributed, pick_device,
                        shutdown_distributed)
    from .train.online_probe import OnlineProbe

    if args.stop_after is not None and args.stop_after < 1:
        raise ConfigError(f"--stop-after must be at least 1, got {args.stop_after}")
    env = env_from_launcher()
    plugin = create_modality(args.modality)
    run = RunDir(args.out)
    cfg, state = _resolve_config(args, plugin)
    was_run = run.exists()
    device = pick_device(cfg.optim.device, env)
    init_distributed(env, device, cfg.dist.backend, cfg.dist.timeout_s)
    try:
        if cfg.target.kind == "frozen" and state is None and getattr(cfg.target, "frozen_run", None):
            state = RunDir(cfg.target.frozen_run).read()[1]  # the teacher's data transform
        cfg.data.path = cfg.data.path or plugin.demo_data()
        _absolute_paths(cfg)
        path = cfg.data.path
        dataset, state = plugin.load(path, cfg, state)
        probe = OnlineProbe.from_config(cfg, plugin, state, device) if env.is_main else None
        model = build_model(cfg, plugin, state)
        if args.resume and was_run:
            check_resume_fits(run, model)
        batches = EpochBatches(dataset, plugin.collate, cfg.data.batch_size, env, cfg.optim.seed,
                               cfg.data.num_workers, source=path)
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
                _print_summary(plugin, state)
            result = trainer.fit(resume=args.resume, stop_after=args.stop_after)
        if env.is_main:
            print(json.dumps({"run_dir": str(run.path), "steps": result.end_step,
                              "final_loss": result.final_loss, "samples_per_s": result.samples_per_s}))
            _end_report(plugin)
            _demo_hint(plugin, cfg, run.path)
    except BaseException:
        shutdown_distributed(barrier=False)  # don't wait for a rank that may be the stalled one
        raise
    shutdown_distributed()
    return 0


def _check_batch_size(size: int) -> None:
    from .config import ConfigError

    if size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {size}")


def _absolute_paths(cfg) -> None:
    """Make the run's data path and frozen teacher (run or Hugging Face folder) absolute
    (when they exist from here; a hub id stays as it is).

    ``config.yaml`` stores them, and ``embed``/``probe``/``--resume`` read them back from
    whatever directory they are run in.
    """
    for section, key in (("data", "path"), ("target", "frozen_run"), ("target", "frozen_hf"), ("model", "init_hf")):
        obj = getattr(cfg, section)
        value = getattr(obj, key, None)
        if value and Path(value).expanduser().exists():
            setattr(obj, key, str(Path(value).expanduser().resolve()))


def _run_data_path(args, run) -> str:
    """``--data``, or the data the run was pretrained on, with a clear error when it moved."""
    from .run import RunError

    if args.data:
        return args.data
    path = run.cfg.data.path
    if not path:
        raise RunError(f"{args.run_dir}: its config.yaml names no data.path; pass --data")
    if not Path(path).expanduser().exists():
        relative = "" if Path(path).is_absolute() else \
            " (a path relative to the directory `jepa pretrain` ran in)"
        raise RunError(f"the run was pretrained on {path}{relative}, which does not exist "
                       f"(from {Path.cwd()}); pass --data")
    return path


def _print_summary(plugin, state: dict) -> None:
    """The plugin's one-paragraph account of what it inferred from the data (a schema)."""
    text = plugin.describe_state(state)
    if text:
        print(text, file=sys.stderr)


def _demo_hint(plugin, cfg, run_path) -> None:
    """After pretraining on the demo data, print the probe command that goes with it."""
    label = plugin.demo_label(cfg.data.path)
    if label is not None:
        flags = f" {plugin.demo_probe_flags}" if plugin.demo_probe_flags else ""
        print(f"probe it: jepa probe {run_path} --label {label}{flags}", file=sys.stderr)


def cmd_embed(args) -> int:
    from .eval import encode_dataset, write_embeddings
    from .eval.embed import check_embedding_path
    from .modality import DataError
    from .run import load_run
    from .train import DistEnv, pick_device

    check_embedding_path(args.out)  # before the work, not after it
    _check_batch_size(args.batch_size)
    run = load_run(args.run_dir)
    device = pick_device(args.device, DistEnv())
    level = run.plugin.embedding_level
    if args.tokens:
        if run.model.target_encoder.layout is None:
            raise DataError(f"--tokens needs tokens on a fixed grid; modality {run.plugin.name!r} has "
                            "none (its token count varies from sample to sample): drop --tokens for "
                            "one pooled vector per sample")
        level = "token"
    state = run.plugin.with_embed_options(run.state, args.overrides)
    dataset, _ = run.plugin.load(_run_data_path(args, run), run.cfg, state)
    feats = encode_dataset(run.model.target_encoder, run.plugin, dataset, level, args.batch_size, device)
    run.check_features(feats)
    names = None if args.tokens else run.plugin.embedding_columns(run.state, run.cfg, feats.shape[-1])
    path = write_embeddings(feats, args.out, names)
    result = {"out": str(path), "shape": list(feats.shape)}
    if names is not None:
        result["blocks"] = _blocks(names)
    print(json.dumps(result))
    _end_report(run.plugin)
    return 0


def _end_report(plugin) -> None:
    """The plugin's line on skipped input (``ModalityPlugin.end_report``), if any, to stderr."""
    report = plugin.end_report()
    if report:
        print(report, file=sys.stderr)


def _blocks(names: list[str]) -> list[str]:
    """The distinct prefixes of ``names`` (``a:0, a:1, b:0`` -> ``a, b``), in order."""
    return list(dict.fromkeys(n.rsplit(":", 1)[0] for n in names))


PROBE_NOTE = ("pretrained: the probe on the run's encoder; random_init: the same "
              "architecture untrained (what the architecture alone gives); raw: the same "
              "probe on the raw features. Pretraining helps when pretrained beats "
              "random_init; raw is the bar a plain linear model sets.")


def _rounded(value, digits: int = 4):
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value


def cmd_probe(args) -> int:
    from .eval import compare_encoders, few_shot_indices, split_indices
    from .run import RunError, build_model, load_run
    from .train import DistEnv, pick_device

    _check_batch_size(args.batch_size)
    run = load_run(args.run_dir)
    device = pick_device(args.device, DistEnv())
    data_path = _run_data_path(args, run)
    label = args.label or run.plugin.demo_label(data_path)
    if label is None:
        raise RunError("--label is required (a column or labels folder; only runs on the demo "
                       "data have a default)")
    if args.label is None:
        print(f"probing with the demo's labels: --label {label}", file=sys.stderr)
    state = run.plugin.with_embed_options(run.state, args.overrides)
    data = run.plugin.probe_data(data_path, label, args.task, run.cfg, state)
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
    print(json.dumps(_rounded(result)))
    print(f"{data.metric} on {len(test)} held-out samples (split seed {args.seed}; "
          f"--seed changes it). {PROBE_NOTE}", file=sys.stderr)
    _end_report(run.plugin)
    return 0


def cmd_plot(args) -> int:
    from .plot import plot_run

    print(plot_run(args.run_dir, args.out))
    return 0


def cmd_bench(args) -> int:
    import importlib

    import torch

    from .bench.summary import summary_lines

    from .bench.quality import quality_benchmark

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    names = ["masking", "attention", "train"] if args.which == "all" else [args.which]
    if args.modality and args.which != "quality":
        raise ValueError(f"a modality ({args.modality!r}) is for `jepa bench quality MODALITY` only")
    if args.steps is not None and args.steps < 1:
        raise ValueError(f"--steps must be at least 1, got {args.steps}")
    quality_options = {k: v for k, v in (("tables", args.suite), ("steps", args.steps)) if v is not None}
    if quality_options and args.which != "quality":
        raise ValueError("--suite and --steps are for `jepa bench quality MODALITY` only")
    bench_run = quality_benchmark(args.modality) if args.which == "quality" else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        if bench_run is None:
            bench_run = importlib.import_module(f"jepa_core.bench.{name}").run
        print(f"benchmark {name} on {device} -> {out} ...", file=sys.stderr, flush=True)
        result = bench_run(device, out, quick=args.quick, **quality_options)
        bench_run = None
        print("\n".join(summary_lines(name, result)), flush=True)
    print(f"results (JSON + PNG): {out}", file=sys.stderr)
    return 0


COMMANDS = {"info": cmd_info, "modalities": cmd_modalities, "components": cmd_components,
            "pretrain": cmd_pretrain,
            "embed": cmd_embed, "probe": cmd_probe, "plot": cmd_plot, "bench": cmd_bench,
            "export": cmd_export, "plan": cmd_plan}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``jepa`` console script."""
    args = _parser().parse_args(argv)  # first: --help and usage errors load no torch
    from .config import ConfigError
    from .modality import DataError
    from .registry import UnknownComponentError
    from .run import RunError
    from .train import TrainingError, TrainingInterrupted
    from .train.checkpoint import CheckpointError

    try:
        with warnings.catch_warnings():  # restores the caller's warning display afterwards
            warnings.showwarning = _warning_line
            command = COMMANDS.get(args.command) or plugin_commands()[args.command][1]
            return command(args)
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
