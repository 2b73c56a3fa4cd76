"""The training loop: schedules, mixed precision, clipping, EMA, logging, checkpoints."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import signal
import sys
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.distributed as dist
from torch import nn

from ..config import Config
from ..method import JEPA, StepOutput
from ..modality import DataError, move_to
from .checkpoint import (NonFiniteCheckpointError, atomic_write_text, checkpoint_tag, discard_checkpoint,
                         load_latest, save_checkpoint, tag_step)
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
    from .online_probe import OnlineProbe


class TrainingError(RuntimeError):
    """Training cannot go on (a NaN/inf loss, say); the last good checkpoint is intact."""


class TrainingInterrupted(Exception):
    """SIGINT (Ctrl-C) or SIGTERM stopped training at a step boundary, after a checkpoint.

    Attributes:
        signum: the signal received; the ``jepa`` command exits with ``128 + signum``.
        step: the step saved, from which ``--resume`` goes on.
    """

    def __init__(self, signum: int, step: int, where: Path) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"{name} received: stopped at step {step} with a checkpoint in {where}; "
                         "pass --resume to continue")
        self.signum = signum
        self.step = step


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def step_seed(seed: int, step: int, rank: int) -> int:
    """The global RNG's seed for one training step of one rank.

    Every step reseeds the global generator (dropout is its only user in training), so a
    run resumed from a checkpoint draws what the uninterrupted run drew, without saving
    generator state; ranks draw differently, as their data differ.
    """
    digest = hashlib.blake2b(f"{seed}:{step}:{rank}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _trim_metrics(path: Path, step: int) -> None:
    """Drop ``metrics.jsonl`` lines past ``step`` (logged after the checkpoint resumed from)."""
    if not path.is_file():
        return
    def logged_by_then(line: str) -> bool:
        try:
            return int(json.loads(line)["step"]) <= step
        except (ValueError, KeyError, TypeError):
            return False  # a line cut short by a kill

    lines = path.read_text().splitlines()
    kept = [line for line in lines if logged_by_then(line)]
    if len(kept) < len(lines):
        atomic_write_text(path, "".join(f"{line}\n" for line in kept))


@dataclass
class FitResult:
    """What a finished (or already finished) run reports."""

    start_step: int
    end_step: int
    final_loss: float | None
    samples_per_s: float | None


@dataclass
class StepStats:
    """One training step's results, still on the device (reading them waits for it).

    Args:
        step: the step (0-based) these are of.
        loss: the detached 0-d loss, averaged over ranks.
        output: the method's forward output (loss parts, targets for the monitors).
        lr: the learning rate the step used.
        weight_decay: its weight decay.
        momentum: the EMA momentum of its target update.
    """

    step: int
    loss: torch.Tensor
    output: StepOutput
    lr: float
    weight_decay: float
    momentum: float


class Trainer:
    """Pretrains a :class:`JEPA` on batches from :class:`EpochBatches` into a run directory.

    Args:
        model: the JEPA model (not yet on ``device``).
        cfg: the run configuration.
        batches: deterministic, resumable batches.
        run: the run directory (config and modality state already written).
        env: this process's rank and world size.
        device: where to train.
        online_probe: scores the target encoder at the steps it says (rank 0's only).
    """

    def __init__(self, model: JEPA, cfg: Config, batches: EpochBatches, run: RunDir, env: DistEnv,
                 device: torch.device, online_probe: OnlineProbe | None = None) -> None:
        self.online_probe = online_probe
        self.cfg = cfg
        self.batches = batches
        if device.type == "cuda":
            batches.pin_memory = True  # then copies to the GPU need not wait for it
        self.run = run
        self.env = env
        self.device = device
        self.model = model.to(device)
        self.total_steps = self._total_steps()
        self.wrapped: nn.Module = wrap_model(self.model, cfg.dist, env, device)
        self.heartbeat = Heartbeat(env, cfg.dist.timeout_s, cfg.dist.heartbeat_every)
        self.optimizer = build_optimizer(self.model, cfg.optim)
        self.schedule_steps = self._schedule_steps()
        self.warmup_steps = int(round(cfg.optim.warmup * self.schedule_steps))
        self.last_good: int | None = None  # step of the newest checkpoint known to be whole and finite
        self.resumed_total: int | None = None  # the run length the resumed checkpoint was trained for
        self._unproven: int | None = None  # a checkpoint this process wrote whose weights no forward has used yet
        self._stop_signal: int | None = None

    def _total_steps(self) -> int:
        o = self.cfg.optim
        if o.steps is not None:
            if o.steps < 1:
                raise ValueError("optim.steps (--steps) must be at least 1")
            return o.steps
        if o.epochs is None or o.epochs < 1:
            raise ValueError("set optim.epochs (--epochs) or optim.steps (--steps) to at least 1")
        return o.epochs * self.batches.steps_per_epoch

    def _schedule_steps(self) -> int:
        """The steps the lr and weight-decay schedules span: ``optim.schedule_steps`` or the run."""
        n = self.cfg.optim.schedule_steps
        if n is None:
            return self.total_steps
        if n < 1:
            raise ValueError(f"optim.schedule_steps must be at least 1 (or null: the whole run), got {n}")
        return min(n, self.total_steps)

    def schedule(self, step: int) -> tuple[float, float, float]:
        """``(lr, weight_decay, ema_momentum)`` at ``step``."""
        o = self.cfg.optim
        lr = warmup_cosine(step, self.schedule_steps, o.lr, o.min_lr, self.warmup_steps)
        wd = cosine(step, self.schedule_steps, o.weight_decay[0], o.weight_decay[1])
        m = self.model.target.momentum_at(step, self.total_steps)
        return lr, wd, m

    def _autocast(self):
        if self.device.type == "cuda" and self.cfg.optim.amp:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        if self.device.type == "cpu" and self.cfg.optim.cpu_amp:
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _resume(self) -> int:
        """Load the newest intact checkpoint (warning about damaged newer ones); its step, or 0."""
        found = load_latest(self.run.checkpoints)
        if found is None:
            return 0
        if self.env.is_main:
            for reason in found.skipped:
                warnings.warn(f"{reason}; resuming from the checkpoint of step {found.step} instead",
                              stacklevel=2)
        load_full_state(self.model, self.optimizer, found.model_state, found.optimizer_state)
        self.last_good = found.step
        self.resumed_total = (found.trainer_state or {}).get("total_steps")
        return found.step

    def _length_change_note(self, start: int) -> str:
        """A note when a resumed run's length differs from the one it was started with."""
        before = self.resumed_total
        if not isinstance(before, int) or before == self.total_steps:
            return ""
        return (f"; it was run for {before} steps before, so its lr, weight-decay and EMA "
                f"schedules now span {self.total_steps} steps from step {start} on: the "
                f"steps after {start} differ from those of a run started for "
                f"{self.total_steps} (--stop-after splits a run without this)")

    def _last_good_text(self) -> str:
        if self.last_good is None:
            return f"No checkpoint was written before it: {self.run.path} has none to resume from."
        return f"The last good checkpoint (step {self.last_good}) in {self.run.checkpoints} is intact."

    def _bad_loss(self, loss_value: float, step: int) -> TrainingError:
        """The error for a NaN/inf loss at ``step``, after dropping a checkpoint that caused it.

        The loss of step ``s`` is the first use of the weights saved as checkpoint ``s``: if
        this process wrote that checkpoint, its weights (finite, but blown up) are what
        failed, so it is deleted and ``latest.json`` goes back to the one before, whose
        own step trained with a finite loss. A checkpoint resumed from is left alone (the
        data may be the cause).
        """
        if self._unproven == step:
            if not self.env.is_main:  # rank 0 deletes it and names the checkpoint left
                return TrainingError(f"the loss became {loss_value} at step {step}; training stopped "
                                     "(rank 0 reports which checkpoint is left)")
            left = discard_checkpoint(self.run.checkpoints, checkpoint_tag(step))
            self.last_good = None if left is None else tag_step(left)
            dropped = f" Its checkpoint (step {step}) produced it and was deleted."
        else:
            dropped = ""
        return TrainingError(
            f"the loss became {loss_value} at step {step}; training stopped.{dropped} {self._last_good_text()} "
            "Try a lower optim.lr, optim.clip_grad, or check the data for extreme values.")

    def _all_finite(self) -> bool:
        """Whether every weight and optimizer tensor of every rank is finite (checked before saving)."""
        tensors = list(self.model.state_dict().values())
        tensors += [v for s in self.optimizer.state.values() for v in s.values() if isinstance(v, torch.Tensor)]
        ok = True
        for t in tensors:
            t = t.to_local() if hasattr(t, "to_local") else t  # an FSDP2 shard
            if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all()):
                ok = False
                break
        if self.env.distributed:
            flag = torch.tensor([float(ok)], device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)
            ok = bool(flag.item())
        return ok

    def _save(self, step: int, loss: float | None) -> None:
        if not self._all_finite():
            raise TrainingError(
                f"the weights became NaN/inf by step {step}; training stopped and nothing was saved for it. "
                f"{self._last_good_text()} Try a lower optim.lr, optim.clip_grad, or check the data for "
                "extreme values.")
        model_state = full_state_dict(self.model)
        optimizer_state = full_optimizer_state(self.model, self.optimizer)
        if self.env.is_main:
            try:
                save_checkpoint(self.run.checkpoints, step, model_state, optimizer_state,
                                {"loss": loss, "total_steps": self.total_steps,
                                 "world_size": self.env.world_size})
            except NonFiniteCheckpointError as e:  # the gathered state; _all_finite checks first
                raise TrainingError(f"{e}. {self._last_good_text()}") from None
        self.last_good = self._unproven = step

    def _catch_stop_signals(self):
        """Until the returned function is called, SIGINT/SIGTERM ask for a stop at the next step boundary.

        A second signal of the same kind acts as it would without this (Ctrl-C twice
        raises KeyboardInterrupt at once). Only the main thread can set handlers; elsewhere
        signals keep their usual effect.

        Returns:
            A function that puts the previous handlers back.
        """
        self._stop_signal = None
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = {s: signal.getsignal(s) for s in _STOP_SIGNALS}

        def request_stop(signum, frame):
            self._stop_signal = signum
            signal.signal(signum, previous[signum])
            if self.env.is_main:
                print(f"\n{signal.Signals(signum).name}: stopping after this step with a checkpoint "
                      "(send it again to stop at once)", file=sys.stderr, flush=True)

        def restore() -> None:
            for s, handler in previous.items():
                signal.signal(s, handler)

        for s in _STOP_SIGNALS:
            signal.signal(s, request_stop)
        return restore

    def _stop_requested(self) -> int | None:
        """The signal that asked for a stop on any rank, or None (a collective when distributed)."""
        signum = self._stop_signal or 0
        if self.env.distributed:
            flag = torch.tensor([signum], device=self.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            signum = int(flag.item())
        return signum or None

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

    def train_step(self, step: int, ids: torch.Tensor, batch) -> StepStats:
        """One optimisation step: schedule, forward, backward, clip, optimizer, EMA update.

        The one place the step is written; ``fit`` and the benchmarks call it. It does
        not wait for the device: nothing is read back to the host here (the caller reads
        ``StepStats.loss`` when it needs the value, e.g. for the NaN check).

        Args:
            step: the global step (sets the schedules, the masks, SIGReg's slices and the
                global RNG, :func:`step_seed`).
            ids: ``[B]`` global sample ids of the batch.
            batch: the raw batch (moved to the device here).
        """
        lr, wd, momentum = self.schedule(step)
        set_hyperparameters(self.optimizer, lr, wd)
        torch.manual_seed(step_seed(self.cfg.optim.seed, step, self.env.rank))
        batch = move_to(batch, self.device)
        with self._autocast():
            out = self.wrapped(batch, ids.to(self.device, non_blocking=True), step)
        loss = self._global_mean(out.loss)
        self.optimizer.zero_grad(set_to_none=True)
        out.loss.backward()
        if self.cfg.optim.clip_grad:
            clip_grad_norm_(self.model, self.cfg.optim.clip_grad)
        self.optimizer.step()
        self.model.target.update(self.model.encoder, momentum)
        return StepStats(step, loss, out, lr, wd, momentum)

    def _checked_loss(self, stats: StepStats) -> float:
        """The step's loss as a float (waits for the device); a NaN/inf stops training."""
        value = stats.loss.item()
        if not math.isfinite(value):
            raise self._bad_loss(value, stats.step)
        return value

    def _log_record(self, stats: StepStats, loss: float, rate: float) -> dict:
        out = stats.output
        parts = dict(zip(out.parts, torch.stack(list(out.parts.values())).tolist())) if out.parts else {}
        sample = out.targets[:1024]
        return {"step": stats.step + 1, "epoch": stats.step // self.batches.steps_per_epoch,
                "loss": loss, **parts, "lr": stats.lr, "weight_decay": stats.weight_decay,
                "momentum": stats.momentum, "samples_per_s": rate,
                "target_std": embedding_std(sample), "target_rank": effective_rank(sample)}

    def _probe_due(self, step: int) -> bool:
        """Whether the online probe (if any) runs after ``step`` finished steps."""
        return self.online_probe is not None and self.online_probe.due(step, self.total_steps)

    def _probe(self, step: int, logger: ProgressLogger) -> None:
        """Log the online probe's score after ``step`` steps."""
        logger.log({"step": step, **self.online_probe(self.model)})

    def fit(self, resume: bool = False, stop_after: int | None = None) -> FitResult:
        """Train until ``total_steps``; with ``resume``, continue from the latest checkpoint.

        A step's loss is read (and checked for NaN/inf) after the next step has been
        queued, so the host does not wait for the device every step; at log and
        checkpoint steps, and at the end, it is read at once, so no checkpoint is ever
        written after a non-finite loss.

        Args:
            resume: continue from the latest checkpoint of the run directory.
            stop_after: end this call (with a checkpoint) after this many steps, e.g. to
                fit a job's time slot; a later ``resume`` goes on exactly where it stopped.
        """
        start = self._resume() if resume else 0
        if self.env.is_main:
            _trim_metrics(self.run.metrics, start)
        logger = ProgressLogger(self.run.metrics, self.total_steps, start, self.env.is_main,
                                self.cfg.logging.progress,
                                open_sinks(self.cfg, self.run.path) if self.env.is_main else ())
        if start >= self.total_steps:
            logger.message(f"run already at step {start} of {self.total_steps}: nothing to do")
            logger.close()
            return FitResult(start, start, None, None)
        if resume:
            logger.message(f"resuming from step {start} of {self.total_steps}"
                           f"{self._length_change_note(start)}" if start else
                           "no checkpoint to resume from: starting at step 0")
        self.model.train()
        log_every, ckpt_every = self.cfg.logging.log_every, self.cfg.logging.checkpoint_every
        global_batch = self.batches.local_batch * self.env.world_size
        loss_value, rate = None, None
        pending: tuple[StepStats, float] | None = None  # the previous step, its loss not read yet
        end = self.total_steps if stop_after is None else min(self.total_steps, start + stop_after)
        step = next_step = start
        restore_signals = self._catch_stop_signals()
        try:
            if start == 0 and self._probe_due(0):
                self._probe(0, logger)  # the random-init reference
            for step, ids, batch in self.batches.iterate(start, end):
                self._check_ranks(step)
                tic = time.perf_counter()
                stats = self.train_step(step, ids, batch)
                if pending is not None:
                    logger.step(self._checked_loss(pending[0]), pending[1])
                    pending = None
                rate = global_batch / max(time.perf_counter() - tic, 1e-9)
                done = next_step = step + 1
                log_now = done % log_every == 0 or done == self.total_steps
                save_now = done % ckpt_every == 0 and done != end
                probe_now = self._probe_due(done)
                signum = self._stop_requested()
                if not (log_now or save_now or probe_now or done == end or signum is not None):
                    pending = (stats, rate)
                    continue
                loss_value = self._checked_loss(stats)
                logger.step(loss_value, rate)
                if log_now:
                    logger.log(self._log_record(stats, loss_value, rate))
                if probe_now:
                    self._probe(done, logger)
                if save_now:
                    self._save(done, loss_value)
                if signum is not None and done != end:
                    if self.last_good != done:
                        self._save(done, loss_value)
                    raise TrainingInterrupted(signum, done, self.run.checkpoints)
            self._save(end, loss_value)
        except RuntimeError as e:  # a rank that never joined a collective: name it
            if isinstance(e, TrainingError) or not (self.env.distributed and is_collective_timeout(e)):
                raise
            raise TrainingError(self.heartbeat.diagnose(step, e)) from None
        except DataError as e:
            raise DataError(f"{e}; training stopped at step {next_step}. {self._last_good_text()}") from None
        finally:
            restore_signals()
            logger.close()
        return FitResult(start, end, loss_value, rate)
