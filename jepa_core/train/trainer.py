"""The training loop: schedules, mixed precision, clipping, EMA, logging, checkpoints."""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
from torch import nn

from ..config import Config
from ..method import JEPA
from ..modality import move_to
from ..targets import ema_momentum
from .checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from .data import EpochBatches
from .distributed import DistEnv, Heartbeat, is_collective_timeout
from .monitors import effective_rank, embedding_std
from .optim import build_optimizer, set_hyperparameters
from .parallel import clip_grad_norm_, full_optimizer_state, full_state_dict, load_full_state, wrap_model
from .progress import ProgressLogger
from .sinks import open_sinks
from .schedules import cosine, warmup_cosine

if TYPE_CHECKING:  # run.py imports train.checkpoint
    from ..run import RunDir


class TrainingError(RuntimeError):
    """Training cannot go on (a NaN/inf loss, say); the last good checkpoint is intact."""


@dataclass
class FitResult:
    """What a finished (or already finished) run reports."""

    start_step: int
    end_step: int
    final_loss: float | None
    samples_per_s: float | None


class Trainer:
    """Pretrains a :class:`JEPA` on batches from :class:`EpochBatches` into a run directory.

    Args:
        model: the JEPA model (not yet on ``device``).
        cfg: the run configuration.
        batches: deterministic, resumable batches.
        run: the run directory (config and modality state already written).
        env: this process's rank and world size.
        device: where to train.
    """

    def __init__(self, model: JEPA, cfg: Config, batches: EpochBatches, run: RunDir, env: DistEnv,
                 device: torch.device) -> None:
        self.cfg = cfg
        self.batches = batches
        self.run = run
        self.env = env
        self.device = device
        self.model = model.to(device)
        self.total_steps = self._total_steps()
        self.wrapped: nn.Module = wrap_model(self.model, cfg.dist, env, device)
        self.heartbeat = Heartbeat(env, cfg.dist.timeout_s, cfg.dist.heartbeat_every)
        self.optimizer = build_optimizer(self.model, cfg.optim)
        self.warmup_steps = int(round(cfg.optim.warmup * self.total_steps))

    def _total_steps(self) -> int:
        o = self.cfg.optim
        if o.steps is not None:
            if o.steps < 1:
                raise ValueError("optim.steps (--steps) must be at least 1")
            return o.steps
        if o.epochs is None or o.epochs < 1:
            raise ValueError("set optim.epochs (--epochs) or optim.steps (--steps) to at least 1")
        return o.epochs * self.batches.steps_per_epoch

    def schedule(self, step: int) -> tuple[float, float, float]:
        """``(lr, weight_decay, ema_momentum)`` at ``step``."""
        o = self.cfg.optim
        lr = warmup_cosine(step, self.total_steps, o.lr, o.min_lr, self.warmup_steps)
        wd = cosine(step, self.total_steps, o.weight_decay[0], o.weight_decay[1])
        m = ema_momentum(step, self.total_steps, *self.cfg.target.momentum)
        return lr, wd, m

    def _autocast(self):
        if self.device.type == "cuda" and self.cfg.optim.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _resume(self) -> int:
        if latest_checkpoint(self.run.checkpoints) is None:
            return 0
        model_state, optimizer_state, trainer_state = load_checkpoint(self.run.checkpoints)
        load_full_state(self.model, self.optimizer, model_state, optimizer_state)
        return int(trainer_state["step"])

    def _save(self, step: int, loss: float | None) -> None:
        model_state = full_state_dict(self.model)
        optimizer_state = full_optimizer_state(self.model, self.optimizer)
        if self.env.is_main:
            save_checkpoint(self.run.checkpoints, step, model_state, optimizer_state,
                            {"loss": loss, "total_steps": self.total_steps,
                             "world_size": self.env.world_size})

    def _global_mean(self, value: torch.Tensor) -> torch.Tensor:
        value = value.detach().float().clone()
        if self.env.distributed:
            dist.all_reduce(value)
            value /= self.env.world_size
        return value

    def _check_ranks(self, step: int) -> None:
        stalled = self.heartbeat.check(step)
        if stalled:
            raise TrainingError(stalled)

    def fit(self, resume: bool = False, stop_after: int | None = None) -> FitResult:
        """Train until ``total_steps``; with ``resume``, continue from the latest checkpoint.

        Args:
            resume: continue from the latest checkpoint of the run directory.
            stop_after: end this call (with a checkpoint) after this many steps, e.g. to
                fit a job's time slot; a later ``resume`` goes on exactly where it stopped.
        """
        start = self._resume() if resume else 0
        logger = ProgressLogger(self.run.metrics, self.total_steps, start, self.env.is_main,
                                self.cfg.logging.progress,
                                open_sinks(self.cfg, self.run.path) if self.env.is_main else ())
        if start >= self.total_steps:
            logger.message(f"run already at step {start} of {self.total_steps}: nothing to do")
            logger.close()
            return FitResult(start, start, None, None)
        if resume:
            logger.message(f"resuming from step {start} of {self.total_steps}" if start else
                           "no checkpoint to resume from: starting at step 0")
        self.model.train()
        log_every, ckpt_every = self.cfg.logging.log_every, self.cfg.logging.checkpoint_every
        global_batch = self.batches.local_batch * self.env.world_size
        loss_value, rate, last_saved = None, None, start
        end = self.total_steps if stop_after is None else min(self.total_steps, start + stop_after)
        step = start
        try:
            for step, ids, batch in self.batches.iterate(start, end):
                self._check_ranks(step)
                tic = time.perf_counter()
                lr, wd, momentum = self.schedule(step)
                set_hyperparameters(self.optimizer, lr, wd)
                batch = move_to(batch, self.device)
                with self._autocast():
                    out = self.wrapped(batch, ids.to(self.device), step)
                loss_value = self._global_mean(out.loss).item()
                if not math.isfinite(loss_value):
                    raise TrainingError(
                        f"the loss became {loss_value} at step {step}; training stopped. The last good "
                        f"checkpoint (step {last_saved}) in {self.run.checkpoints} is intact. Try a lower "
                        "optim.lr, optim.clip_grad, or check the data for extreme values.")
                self.optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                if self.cfg.optim.clip_grad:
                    clip_grad_norm_(self.model, self.cfg.optim.clip_grad)
                self.optimizer.step()
                self.model.target.update(self.model.encoder, momentum)
                rate = global_batch / max(time.perf_counter() - tic, 1e-9)
                logger.step(loss_value, rate)
                done = step + 1
                if done % log_every == 0 or done == self.total_steps:
                    sample = out.targets[:1024]
                    logger.log({"step": done, "epoch": step // self.batches.steps_per_epoch,
                                "loss": loss_value, **out.parts, "lr": lr, "weight_decay": wd,
                                "momentum": momentum, "samples_per_s": rate,
                                "target_std": embedding_std(sample), "target_rank": effective_rank(sample)})
                if done % ckpt_every == 0 and done != end:
                    self._save(done, loss_value)
                    last_saved = done
            self._save(end, loss_value)
        except RuntimeError as e:  # a rank that never joined a collective: name it
            if isinstance(e, TrainingError) or not (self.env.distributed and is_collective_timeout(e)):
                raise
            raise TrainingError(self.heartbeat.diagnose(step, e)) from None
        finally:
            logger.close()
        return FitResult(start, end, loss_value, rate)
