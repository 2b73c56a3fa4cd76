"""The online probe: how well the target encoder predicts a label, while it trains.

Every ``logging.probe_every`` steps rank 0 embeds a fixed subsample of the probe data
with the current target encoder and scores a probe (kNN by default: nothing to fit) on a
fixed held-out split; the trainer logs ``probe_<metric>`` with the step into
``metrics.jsonl``. At step 0 the score is that of the random initialization, the
reference line of ``jepa plot``. The probe touches neither the weights nor the random
state of training (it runs under :func:`torch.random.fork_rng` and puts every module back
in its train/eval mode), so a run with it ends with the same weights as one without,
and resumes bit for bit. Other ranks skip it; it holds no collective.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import Subset

from ..config import Config, ConfigError
from ..eval.compare import PROBE_KINDS, check_probe_kind, embed_for_probe, probe_metrics, score_probe
from ..eval.probe import split_indices
from ..modality import ModalityPlugin, ProbeData

if TYPE_CHECKING:
    from ..method import JEPA

#: Token rows a token-level probe's subsample holds at most (samples x tokens).
MAX_TOKEN_ROWS = 50_000

#: Runs probed this many times when ``logging.probe_every`` is not set.
DEFAULT_PROBES_PER_RUN = 10


class OnlineProbe:
    """Scores the target encoder on a fixed probe split; called by the trainer.

    Args:
        plugin: the modality (its ``collate``).
        data: the probe data (``plugin.probe_data``).
        kind: ``knn``, ``linear`` or ``attentive``.
        every: probe when the finished step count is a multiple of this (and at the
            run's last step, and at step 0); ``None``: :meth:`default_every`.
        max_samples: subsample the probe data to this many samples (fewer for per-token
            labels, to stay within :data:`MAX_TOKEN_ROWS` token rows).
        batch_size: embedding batch size.
        device: where to embed.
        seed: the subsample and the held-out split.

    Examples:
        >>> OnlineProbe.default_every(total_steps=250)
        25
    """

    def __init__(self, plugin: ModalityPlugin, data: ProbeData, kind: str, every: int | None = None,
                 max_samples: int = 2000, batch_size: int = 256, device: torch.device | str = "cpu",
                 seed: int = 0) -> None:
        check_probe_kind(kind, data.level)
        if every is not None and every < 1:
            raise ConfigError(f"logging.probe_every must be at least 1, got {every}")
        if max_samples < 4:
            raise ConfigError(f"logging.probe_samples must be at least 4, got {max_samples}")
        self.plugin, self.kind, self.every = plugin, kind, every
        self.batch_size, self.device, self.seed = batch_size, torch.device(device), seed
        self.task, self.level, self.metrics = data.task, data.level, probe_metrics(data.metric)
        n = len(data.targets)
        if data.level == "token":
            max_samples = min(max_samples, max(4, MAX_TOKEN_ROWS // max(1, data.targets.shape[1])))
        rows = np.sort(np.random.default_rng(seed).permutation(n)[:max_samples])
        self.dataset = Subset(data.dataset, rows.tolist())
        self.targets = data.targets[rows]
        strat = self.targets if (data.level == "sample" and data.task == "classification") else None
        self.train, self.test = split_indices(len(rows), strat, seed=seed)

    @staticmethod
    def default_every(total_steps: int) -> int:
        """Every 10% of the run (at least every step)."""
        return max(1, math.ceil(total_steps / DEFAULT_PROBES_PER_RUN))

    @classmethod
    def from_config(cls, cfg: Config, plugin: ModalityPlugin, state: dict,
                    device: torch.device | str) -> "OnlineProbe | None":
        """The online probe of ``cfg.logging`` (``None`` without ``probe_label``).

        Loads the probe data now, so a missing label fails before the run directory is
        written and training starts.

        Raises:
            ConfigError: an unknown ``logging.probe``, or FSDP (each rank holds a shard of
                the encoder, so one rank cannot run it alone).
            DataError: from the plugin's ``probe_data``.
        """
        log = cfg.logging
        if not log.probe_label:
            return None
        if log.probe not in PROBE_KINDS:
            raise ConfigError(f"logging.probe: unknown probe {log.probe!r}; choose one of "
                              f"{', '.join(PROBE_KINDS)}")
        if cfg.dist.strategy == "fsdp":
            raise ConfigError("the online probe (--probe-label) runs the encoder on rank 0 alone, which "
                              "dist.strategy=fsdp shards over every rank; use dist.strategy=ddp or probe "
                              "the finished run with `jepa probe`")
        data = plugin.probe_data(log.probe_data or cfg.data.path, log.probe_label, None, cfg, state)
        try:
            return cls(plugin, data, log.probe, log.probe_every, log.probe_samples, cfg.data.batch_size,
                       device, cfg.optim.seed)
        except ValueError as e:
            if isinstance(e, ConfigError):
                raise
            raise ConfigError(f"logging.probe={log.probe!r}: {e}") from None

    def due(self, step: int, total_steps: int) -> bool:
        """Whether to probe after ``step`` finished steps of a run of ``total_steps``."""
        every = self.every or self.default_every(total_steps)
        return step == 0 or step % every == 0 or step == total_steps

    def __call__(self, model: JEPA) -> dict[str, float]:
        """``{"probe_<metric>": score, ..., "probe_s": seconds}`` of ``model``'s target encoder.

        Every module's train/eval mode and the random state of torch (CPU and the probe's
        device) are the same afterwards as before.
        """
        tic = time.perf_counter()
        modes = [(m, m.training) for m in model.modules()]
        devices = [self.device] if self.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):
                features = embed_for_probe(model.target_encoder, self.plugin, self.dataset, self.level,
                                           self.kind, self.batch_size, self.device, progress=False)
                scores = score_probe(self.kind, features, self.targets, self.task, self.metrics,
                                     self.train, self.test, seed=self.seed, device=self.device)
        finally:
            for module, mode in modes:
                module.training = mode
        return {**{f"probe_{m}": v for m, v in scores.items()}, "probe_s": time.perf_counter() - tic}
