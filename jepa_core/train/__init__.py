"""Training: the loop, optimizer and schedules, checkpoints, data order, distribution."""

from .checkpoint import load_checkpoint, save_checkpoint
from .data import EpochBatches
from .distributed import DistEnv, env_from_launcher, init_distributed, pick_device, shutdown_distributed
from .trainer import FitResult, StepStats, Trainer, TrainingError, TrainingInterrupted

__all__ = ["DistEnv", "EpochBatches", "FitResult", "StepStats", "Trainer", "TrainingError",
           "TrainingInterrupted", "env_from_launcher", "init_distributed", "load_checkpoint",
           "pick_device", "save_checkpoint", "shutdown_distributed"]
