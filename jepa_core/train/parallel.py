"""Wrapping the model for data-parallel training and getting whole state dicts back."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..config import DistConfig
from .distributed import DistEnv

STRATEGIES = ("ddp", "fsdp")


def wrap_model(model: nn.Module, cfg: DistConfig, env: DistEnv, device: torch.device) -> nn.Module:
    """DDP (default) around the model when running with several processes."""
    if cfg.strategy not in STRATEGIES:
        raise ValueError(f"dist.strategy must be one of {STRATEGIES}, got {cfg.strategy!r}")
    if not env.distributed:
        return model
    if cfg.strategy == "fsdp":
        raise NotImplementedError("dist.strategy=fsdp lands with the scale-out work")
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The unsharded model state on CPU (every rank calls it; rank 0 writes it)."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def full_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The unsharded optimizer state (every rank calls it; rank 0 writes it)."""
    return optimizer.state_dict()


def load_full_state(model: nn.Module, optimizer: torch.optim.Optimizer | None,
                    model_state: dict, optimizer_state: dict | None) -> None:
    """Load whole (unsharded) states, as written by rank 0, into this rank's model/optimizer."""
    model.load_state_dict(model_state)
    if optimizer is not None and optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
