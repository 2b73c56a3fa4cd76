"""Wrapping the model for data-parallel training and getting whole state dicts back.

Two strategies, chosen by ``dist.strategy`` and used only when the job has more than one
process (one process trains the plain model whatever the strategy):

- ``ddp`` (default): :class:`~torch.nn.parallel.DistributedDataParallel` around the
  model; every rank holds all parameters and gradients are averaged over ranks.
- ``fsdp``: FSDP2, :func:`~torch.distributed.fsdp.fully_shard` over every transformer
  :class:`~jepa_core.models.transformer.Block` and then over the whole model, on an
  explicit 1-D device mesh. The EMA teacher's blocks are sharded exactly like the
  student's (same mesh, ``Shard(0)`` per parameter), so the teacher update in
  :meth:`~jepa_core.targets.TargetProvider.update` lerps matching local shards.

Gradient scale: the objectives compute global-batch statistics with an all-reduce whose
backward sums over ranks (``jepa_core.objectives._distributed``), so each rank's local
gradient is ``world_size`` times its share of the global-batch gradient; DDP's and
FSDP's averaging over ranks then gives exactly the single-process gradient of the
concatenated batch. Nothing is rescaled here.

Whole states go through :mod:`torch.distributed.checkpoint.state_dict` with
``full_state_dict=True``: the same keys and unsharded tensors whatever the strategy and
world size, so a checkpoint written by two FSDP ranks loads into one process and the
other way round.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.device_mesh import DeviceMesh, init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.nn.parallel import DistributedDataParallel

from ..config import DistConfig
from ..models.transformer import Block
from .distributed import DistEnv

STRATEGIES = ("ddp", "fsdp")

_GATHER = StateDictOptions(full_state_dict=True, cpu_offload=True)
_SCATTER = StateDictOptions(full_state_dict=True, strict=True)


def check_strategy(cfg: DistConfig) -> None:
    """Raise on an unknown ``dist.strategy`` (checked even when running one process)."""
    if cfg.strategy not in STRATEGIES:
        raise ValueError(f"dist.strategy must be one of {STRATEGIES}, got {cfg.strategy!r}")


def data_parallel_mesh(env: DistEnv, device: torch.device) -> DeviceMesh:
    """A 1-D mesh over all ranks, on this rank's device type (gloo on CPU, NCCL on CUDA)."""
    return init_device_mesh(device.type, (env.world_size,), mesh_dim_names=("dp",))


def shard_model(model: nn.Module, mesh: DeviceMesh) -> nn.Module:
    """FSDP2: ``fully_shard`` each transformer block, then the model (the rest of the params).

    Every :class:`Block` is its own unit, whether it belongs to the context encoder, the
    predictor or the EMA/frozen teacher, so the teacher is sharded like the student.
    Parameters with no elements (``model.num_registers=0``) are left out: there is
    nothing to shard or reduce. ``fully_shard`` works in place; the model is returned.

    Args:
        model: the model, already on this rank's device.
        mesh: the data-parallel mesh from :func:`data_parallel_mesh`.
    """
    empty = {p for p in model.parameters() if p.numel() == 0}  # e.g. zero register tokens
    for block in [m for m in model.modules() if isinstance(m, Block)]:
        fully_shard(block, mesh=mesh, ignored_params=empty or None)
    fully_shard(model, mesh=mesh, ignored_params=empty or None)
    return model


def wrap_model(model: nn.Module, cfg: DistConfig, env: DistEnv, device: torch.device) -> nn.Module:
    """The module the trainer calls: DDP (default) or the FSDP2-sharded model under torchrun.

    Build the optimizer on ``model`` *after* this call: FSDP2 replaces the parameters by
    sharded ones in place.

    The forward returns the method's ``StepOutput`` dataclass, which neither wrapper
    looks into: DDP runs with ``find_unused_parameters=False`` (every trainable parameter
    gets a gradient each step, as in all built-in models; otherwise DDP raises at the
    next step), and under FSDP2 the root's parameters stay unsharded from the forward to
    the backward, whose final callback reduces them (checked against one process by
    ``tests/train/test_distributed.py``).

    Args:
        model: the model, already on ``device``.
        cfg: the ``dist`` config section.
        env: this process's rank and world size (the process group is initialized).
        device: this rank's device.

    Returns:
        ``model`` itself with one process or under FSDP2 (sharded in place), else a
        :class:`DistributedDataParallel` around it.
    """
    check_strategy(cfg)
    if not env.distributed:
        return model
    if cfg.strategy == "fsdp":
        return shard_model(model, data_parallel_mesh(env, device))
    ids = [device.index] if device.type == "cuda" else None
    # Parameters with no element (model.registers when model.num_registers=0) have nothing to
    # average; left in, their gradient's layout does not match DDP's bucket view and every
    # run warns "Grad strides do not match bucket view strides".
    empty = [name for name, p in model.named_parameters() if p.numel() == 0]
    if empty:
        DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(model, empty)
    return DistributedDataParallel(model, device_ids=ids)


def clip_grad_norm_(model: nn.Module, max_norm: float) -> torch.Tensor:
    """Clip the gradients' global norm, under DDP, FSDP2 or one process alike.

    :func:`torch.nn.utils.clip_grad_norm_` over the parameters that have elements: under
    FSDP2 those are all sharded DTensors on one mesh (the norm is reduced over ranks),
    while empty ones stay plain tensors and would not mix with them.

    Returns:
        The total norm before clipping.
    """
    return torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.numel() > 0], max_norm)


def _names(model: nn.Module, optimizer: torch.optim.Optimizer) -> list[str]:
    """Parameter names in the optimizer's order (the ids of ``optimizer.state_dict()``)."""
    by_param = {p: name for name, p in model.named_parameters()}
    try:
        return [by_param[p] for group in optimizer.param_groups for p in group["params"]]
    except KeyError:
        raise ValueError("the optimizer holds a parameter that is not in the model") from None


def _to_ids(state: dict) -> dict:
    """A name-keyed optimizer state (torch.distributed.checkpoint) to the integer-id form.

    Ranks other than 0 get an empty dict from the gather; it stays empty.
    """
    if not state:
        return {}
    ids: dict[str, int] = {}
    groups = []
    for group in state["param_groups"]:
        params = []
        for name in group["params"]:
            params.append(ids.setdefault(name, len(ids)))
        groups.append({**group, "params": params})
    return {"state": {ids[name]: v for name, v in state["state"].items()}, "param_groups": groups}


def _to_names(state: dict, names: list[str]) -> dict:
    """The integer-id optimizer state of a checkpoint to the name-keyed form."""
    count = sum(len(g["params"]) for g in state["param_groups"])
    if count != len(names):
        raise ValueError(f"the checkpoint's optimizer has {count} parameters, the model {len(names)}: "
                         "it was written for another model configuration")
    groups = [{**g, "params": [names[i] for i in g["params"]]} for g in state["param_groups"]]
    return {"state": {names[int(i)]: v for i, v in state["state"].items()}, "param_groups": groups}


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The unsharded model state on CPU, keyed like the plain model's ``state_dict()``.

    Every rank must call it (FSDP2 all-gathers); under ``torchrun`` rank 0 gets the whole
    state and the other ranks an empty dict (rank 0 writes checkpoints).

    Args:
        model: the unwrapped model (not the DDP wrapper).
    """
    return get_model_state_dict(model, options=_GATHER)


def full_optimizer_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The unsharded optimizer state in ``optimizer.state_dict()`` form (integer ids).

    Every rank must call it; under ``torchrun`` rank 0 gets the whole state and the other
    ranks an empty dict.
    """
    return _to_ids(get_optimizer_state_dict(model, optimizer, options=_GATHER))


def load_full_state(model: nn.Module, optimizer: torch.optim.Optimizer | None,
                    model_state: dict, optimizer_state: dict | None) -> None:
    """Load whole states, as written by rank 0, into this rank's (possibly sharded) model.

    Every rank passes the whole state it read from the checkpoint; under FSDP2 each rank
    keeps its own shard. Works whatever the world size and strategy that wrote it.

    Args:
        model: the unwrapped model (after :func:`wrap_model`).
        optimizer: its optimizer, or None to load the weights only.
        model_state: keys as in the plain model's ``state_dict()``.
        optimizer_state: ``optimizer.state_dict()`` form, or None.
    """
    set_model_state_dict(model, model_state, options=_SCATTER)
    if optimizer is not None and optimizer_state is not None:
        named = _to_names(optimizer_state, _names(model, optimizer))
        set_optimizer_state_dict(model, optimizer, named, options=_SCATTER)
