"""A run directory: what pretraining writes and what embed/probe/resume read back.

```
RUN_DIR/
  run.json              modality name and package version
  config.yaml           the full resolved config
  modality_state.json   the plugin's fitted transform (a tabular schema, ...)
  metrics.jsonl         one line per logged step
  checkpoints/          step-XXXXXXXX.{safetensors,optim.safetensors,json}, latest.json
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from . import __version__
from .config import Config, build_config, load_yaml, save_config
from .method import JEPA
from .modality import ModalityPlugin
from .registry import create_modality, get_registry
from .train.checkpoint import atomic_write_text, latest_checkpoint, load_weights


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

    def exists(self) -> bool:
        return self.info.is_file() and self.config.is_file() and self.state.is_file()

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


def build_model(cfg: Config, plugin: ModalityPlugin, state: dict) -> JEPA:
    """A fresh model for ``cfg``, seeded by ``optim.seed`` (the frozen teacher loaded if any)."""
    teacher = None
    if cfg.target.kind == "frozen":
        if not cfg.target.frozen_run:
            raise RunError("target.kind=frozen needs target.frozen_run=RUN_DIR (the teacher's run)")
        teacher_run = load_run(cfg.target.frozen_run, expect_modality=cfg.modality)
        teacher = teacher_run.model.target_encoder
    torch.manual_seed(cfg.optim.seed)
    method = get_registry("method").get(cfg.method.name)
    return method.build(plugin.build_tokenizer(cfg, state), cfg, teacher)


def load_run(run_dir: str | Path, *, weights: bool = True, expect_modality: str | None = None) -> LoadedRun:
    """Rebuild the model of a run directory, with its latest weights."""
    run = RunDir(run_dir)
    cfg, state = run.read()
    if expect_modality is not None and run.modality() != expect_modality:
        raise RunError(f"{run.path} is a {run.modality()!r} run, not {expect_modality!r}")
    plugin = create_modality(cfg.modality)
    model = build_model(cfg, plugin, state)
    if weights:
        if latest_checkpoint(run.checkpoints) is None:
            raise RunError(f"{run.path} has no checkpoint yet (checkpoints/latest.json is missing)")
        model.load_state_dict(load_weights(run.checkpoints))
    model.eval()
    return LoadedRun(cfg, plugin, state, model)
