"""A run directory: what pretraining writes and what embed/probe/resume read back.

```
RUN_DIR/
  run.json              modality name and package version
  config.yaml           the full resolved config
  modality_state.json   the plugin's fitted transform (a tabular schema, ...)
  metrics.jsonl         one line per logged step
  checkpoints/          step-XXXXXXXX.{safetensors,optim.safetensors,json}, latest.json
  .lock                 held (flock) by the one process writing the run; names its pid
```
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open

from . import __version__
from .config import Config, build_config, load_yaml, save_config
from .method import JEPA
from .models import Encoder
from .modality import ModalityPlugin
from .registry import create_modality, get_registry
from .train.checkpoint import atomic_write_text, latest_checkpoint, load_latest

LOCK = ".lock"


class RunError(ValueError):
    """A run directory that is missing, incomplete or of another modality."""


@dataclass
class RunDir:
    """Paths inside a run directory."""

    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def info(self) -> Path:
        return self.path / "run.json"

    @property
    def state(self) -> Path:
        return self.path / "modality_state.json"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def lock_file(self) -> Path:
        return self.path / LOCK

    def exists(self) -> bool:
        return self.info.is_file() and self.config.is_file() and self.state.is_file()

    def has_checkpoint(self) -> bool:
        """Whether ``checkpoints/`` holds any checkpoint file (intact or not)."""
        return self.checkpoints.is_dir() and any(self.checkpoints.glob("step-*"))

    def foreign_entries(self) -> list[str]:
        """Names in the directory that keep it from becoming a run; [] for a run or an empty folder.

        Ignored: the lock file, and the run files of a ``pretrain`` that died while writing
        them (the lock file marks a folder ``pretrain`` claimed; no checkpoint exists yet).
        """
        if self.exists() or not self.path.is_dir():
            return []
        names = sorted(p.name for p in self.path.iterdir() if p.name != LOCK)
        if self.lock_file.exists() and set(names) <= {self.info.name, self.config.name, self.state.name}:
            return []
        return names

    def check_writable(self, resume: bool, force: bool = False) -> None:
        """Refuse an ``--out`` that ``pretrain`` must not write into.

        Args:
            resume: ``--resume``: an existing run is continued, not refused.
            force: ``--force``: write a new run into a non-empty directory that is not one.

        A run that never wrote a checkpoint (one whose first steps failed on bad data or
        options) holds nothing to continue: a new ``pretrain`` may replace it, so a fixed
        command runs again as it was typed.

        Raises:
            RunError: the path is a file, already holds a run with a checkpoint (without
                ``resume``), or is a non-empty directory that is not a run (without ``force``).
        """
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"--out {self.path} is a file, not a directory; give the run a directory of its own")
        if self.exists():
            if not resume and self.has_checkpoint():
                raise RunError(f"{self.path} already holds a run; pass --resume to continue it or choose "
                               "another --out")
            return
        others = self.foreign_entries()
        if others and not force:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise RunError(f"--out {self.path} is a non-empty directory that is not a run (it holds {shown}); "
                           "choose a new or empty directory, or pass --force to write the run into it "
                           "(files named like a run's are replaced)")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the run's exclusive writer lock for the ``with`` block (creates the directory).

        ``fcntl.flock`` on ``.lock``: the kernel releases it when the holder exits or dies,
        so a lock left by a killed process never blocks the next run. The file names the
        holder's pid and host, for the error a second writer gets.

        Raises:
            RunError: another process holds the lock.
        """
        try:
            import fcntl
        except ImportError:  # no flock on this platform: run unlocked
            yield
            return
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 4096, 0).decode(errors="replace").strip()
                try:
                    who = "pid {pid} on {host}, since {since}".format(**json.loads(holder))
                except (ValueError, KeyError, TypeError):
                    who = "a process that did not say who it is"
                raise RunError(f"{self.path} is in use by another jepa process ({who}); wait for it to "
                               "end, stop it, or choose another --out") from None
            since = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                      "since": since}).encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the flock

    def modality(self) -> str:
        return json.loads(self.info.read_text())["modality"]

    def write(self, cfg: Config, state: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.info, json.dumps({"modality": cfg.modality, "version": __version__}))
        save_config(cfg, self.config)
        atomic_write_text(self.state, json.dumps(state, indent=1))

    def read(self) -> tuple[Config, dict]:
        if not self.exists():
            raise RunError(f"{self.path} is not a run directory (expected run.json, config.yaml and "
                           "modality_state.json, written by `jepa pretrain`)")
        return build_config(load_yaml(self.config)), json.loads(self.state.read_text())


@dataclass
class LoadedRun:
    """A run rebuilt from its directory."""

    cfg: Config
    plugin: ModalityPlugin
    state: dict
    model: JEPA
    step: int | None = None  # the step of the checkpoint loaded
    path: Path | None = None  # the run directory

    def check_features(self, features) -> None:
        """Refuse features holding NaN/inf (weights that are finite but blown up make them).

        Raises:
            RunError: naming the run and the checkpoint step.
        """
        import numpy as np

        bad = int(np.size(features) - np.isfinite(features).sum())
        if bad:
            raise RunError(f"the encoder of {self.path} (checkpoint of step "
                           f"{self.step}) gives NaN/inf features ({bad} of {np.size(features)} values): its weights "
                           "blew up in training; pretrain again with a lower optim.lr")


def frozen_teacher(cfg: Config, plugin: ModalityPlugin, state: dict) -> Encoder:
    """The teacher encoder of ``target.kind=frozen``: the target encoder of the run
    ``target.frozen_run``, or the Hugging Face checkpoint ``target.frozen_hf``.

    Raises:
        RunError: neither or both are set, or the teacher cannot be loaded.
    """
    run, hf = cfg.target.frozen_run, cfg.target.frozen_hf
    if run and hf:
        raise RunError(f"target.kind=frozen takes one teacher, got both target.frozen_run={run!r} "
                       f"and target.frozen_hf={hf!r}; set one to null")
    if run:
        return load_run(run, expect_modality=cfg.modality).model.target_encoder
    if hf:  # a transformers I-JEPA checkpoint folder
        from .export.hf_import import teacher_from_hf

        return teacher_from_hf(plugin.build_tokenizer(cfg, state), hf, cfg.model)
    raise RunError("target.kind=frozen needs a teacher, and none is set: target.frozen_run=RUN_DIR "
                   "(a `jepa pretrain` run of the same modality) or target.frozen_hf=PATH "
                   "(a Hugging Face I-JEPA checkpoint)")


def build_model(cfg: Config, plugin: ModalityPlugin, state: dict) -> JEPA:
    """A fresh model for ``cfg``, seeded by ``optim.seed`` (the frozen teacher loaded if any)."""
    teacher = frozen_teacher(cfg, plugin, state) if cfg.target.kind == "frozen" else None
    torch.manual_seed(cfg.optim.seed)
    method = get_registry("method").get(cfg.method.name)
    return method.build(plugin.build_tokenizer(cfg, state), cfg, teacher)


def check_resume_fits(run: RunDir, model: torch.nn.Module) -> None:
    """Refuse ``--resume`` when the newest checkpoint's tensors are not ``model``'s.

    ``--set`` or ``--config`` on a resume can change the architecture (a width, a
    tokenizer's embedding); found here, from the checkpoint's header alone, before
    ``config.yaml`` is rewritten, so the run stays as it was. A checkpoint whose header
    cannot be read is left to the resume itself (it falls back to an intact one).

    Raises:
        RunError: missing or extra tensors, or tensors of another shape (each listed).
    """
    tag = latest_checkpoint(run.checkpoints)
    if tag is None:
        return
    path = run.checkpoints / f"{tag}.safetensors"
    try:
        with safe_open(str(path), framework="pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except Exception:  # a damaged file: the resume warns about it and uses an older one
        return
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = [k for k in expected if k not in shapes]
    extra = [k for k in shapes if k not in expected]
    resized = [f"{k} {shapes[k]} -> {expected[k]}" for k in expected
               if k in shapes and shapes[k] != expected[k]]
    if missing or extra or resized:
        parts = [f"{what} {names[:4]}{' ...' if len(names) > 4 else ''}" for what, names in
                 (("missing tensors", missing), ("extra tensors", extra), ("other shapes", resized))
                 if names]
        raise RunError(f"{path} does not fit the model this --resume builds ({'; '.join(parts)}): "
                       f"a --set or --config given now changes the architecture; resume without "
                       f"it, or start a new run (another --out). {run.path} is left unchanged")


def load_run(run_dir: str | Path, *, expect_modality: str | None = None) -> LoadedRun:
    """Rebuild the model of a run directory, with the weights of its newest intact checkpoint.

    A damaged or non-finite newest checkpoint is skipped with a warning naming the file.

    Raises:
        RunError: not a run, of another modality, without a checkpoint, or with one whose
            tensors are not the model's (missing or extra ones listed).
        CheckpointError: checkpoints exist but none is intact.
    """
    run = RunDir(run_dir)
    cfg, state = run.read()
    if expect_modality is not None and run.modality() != expect_modality:
        raise RunError(f"{run.path} is a {run.modality()!r} run, not {expect_modality!r}")
    plugin = create_modality(cfg.modality)
    model = build_model(cfg, plugin, state)
    found = load_latest(run.checkpoints, optimizer=False)
    if found is None:
        raise RunError(f"{run.path} has no checkpoint yet (nothing in {run.checkpoints})")
    for reason in found.skipped:
        warnings.warn(f"{reason}; using the checkpoint of step {found.step} instead", stacklevel=2)
    result = model.load_state_dict(found.model_state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise RunError(f"the checkpoint {run.checkpoints / (found.tag + '.safetensors')} does not fit the model of {run.path}'s "
                       f"config.yaml: missing tensors {result.missing_keys or 'none'}; extra tensors "
                       f"{result.unexpected_keys or 'none'}")
    model.eval()
    return LoadedRun(cfg, plugin, state, model, found.step, run.path)
