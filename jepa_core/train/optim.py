"""AdamW with weight decay only where it belongs (not on biases, norms or tokens)."""

from __future__ import annotations

import torch
from torch import nn

from ..config import OptimConfig


def param_groups(model: nn.Module) -> list[dict]:
    """Two groups: matrices with weight decay; biases, norm scales and 1-D tokens without."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    return [{"params": decay, "apply_wd": True}, {"params": no_decay, "apply_wd": False, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """AdamW over :func:`param_groups`; lr and weight decay are set every step by the trainer."""
    return torch.optim.AdamW(param_groups(model), lr=cfg.lr, weight_decay=cfg.weight_decay[0],
                             betas=(0.9, 0.999))


def set_hyperparameters(optimizer: torch.optim.Optimizer, lr: float, weight_decay: float) -> None:
    """Apply this step's scheduled learning rate and weight decay."""
    for group in optimizer.param_groups:
        group["lr"] = lr
        if group.get("apply_wd", True):
            group["weight_decay"] = weight_decay
