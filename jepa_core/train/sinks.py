"""Optional scalar sinks beside ``metrics.jsonl``: TensorBoard and Weights & Biases.

Switched on by the config (``logging.tensorboard: true``, ``logging.wandb: offline``);
each needs its extra (``pip install 'jepa-core[tensorboard]'`` / ``'jepa-core[wandb]'``)
and says so when it is missing. :class:`~jepa_core.train.progress.ProgressLogger` hands
every logged record to them, so they show exactly what ``metrics.jsonl`` holds.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

from ..config import Config, ConfigError, to_dict

WANDB_MODES = ("offline", "online")


class ScalarSink(Protocol):
    """Receives each logged record (``step`` plus float scalars)."""

    def write(self, step: int, scalars: dict[str, float]) -> None: ...

    def close(self) -> None: ...


def _scalars(record: dict) -> dict[str, float]:
    """The finite numbers of ``record`` other than ``step``, as floats."""
    return {k: float(v) for k, v in record.items()
            if k != "step" and isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v)}


class TensorBoardSink:
    """Scalars as TensorBoard events in ``log_dir`` (``tensorboard --logdir RUN/tensorboard``)."""

    def __init__(self, log_dir: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("logging.tensorboard needs the tensorboard package: "
                              "pip install 'jepa-core[tensorboard]'") from None
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def write(self, step: int, scalars: dict[str, float]) -> None:
        for name, value in scalars.items():
            self.writer.add_scalar(name, value, step)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


class WandbSink:
    """Scalars to a Weights & Biases run (``offline``: files under ``RUN/wandb`` only)."""

    def __init__(self, mode: str, run_dir: Path, project: str, config: dict) -> None:
        try:
            import wandb
        except ImportError:
            raise ConfigError("logging.wandb needs the wandb package: "
                              "pip install 'jepa-core[wandb]'") from None
        self.run = wandb.init(mode=mode, dir=str(run_dir), project=project, name=run_dir.name,
                              config=config, reinit="create_new")

    def write(self, step: int, scalars: dict[str, float]) -> None:
        self.run.log(scalars, step=step)

    def close(self) -> None:
        self.run.finish()


def check_logging(cfg: Config) -> None:
    """Raise ``ConfigError`` for a ``logging.wandb`` value that is not a mode.

    Examples:
        >>> from jepa_core.config import Config
        >>> cfg = Config()
        >>> cfg.logging.wandb = "yes"
        >>> check_logging(cfg)
        Traceback (most recent call last):
        ...
        jepa_core.config.ConfigError: logging.wandb must be one of ('offline', 'online') or null, got 'yes'
    """
    mode = cfg.logging.wandb
    if mode is not None and mode not in WANDB_MODES:
        raise ConfigError(f"logging.wandb must be one of {WANDB_MODES} or null, got {mode!r}")


def open_sinks(cfg: Config, run_dir: Path) -> list[ScalarSink]:
    """The sinks ``cfg.logging`` switches on, writing into ``run_dir``."""
    check_logging(cfg)
    run_dir = Path(run_dir)
    sinks: list[ScalarSink] = []
    if cfg.logging.tensorboard:
        sinks.append(TensorBoardSink(run_dir / "tensorboard"))
    if cfg.logging.wandb:
        sinks.append(WandbSink(cfg.logging.wandb, run_dir, cfg.logging.wandb_project, to_dict(cfg)))
    return sinks
