"""Kill-safe checkpoints: safetensors weights + optimizer tensors + JSON trainer state.

Every file is written to a temporary name, flushed to disk and renamed into place; the
pointer ``latest.json`` is replaced last. A process killed at any moment therefore leaves
the previous checkpoint (or the new one) whole and loadable, never a half-written one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

LATEST = "latest.json"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Any) -> None:
    """Call ``write(tmp_path)``, fsync the file, then rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda p: p.write_text(text))


def _flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, meta = {}, {"param_groups": state["param_groups"], "state": {}}
    for pid, pstate in state["state"].items():
        meta["state"][str(pid)] = {}
        for key, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                meta["state"][str(pid)][key] = value
    return tensors, meta


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict = {int(pid): dict(v) for pid, v in meta["state"].items()}
    for name, value in tensors.items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(ckpt_dir: str | Path, step: int, model_state: dict[str, torch.Tensor],
                    optimizer_state: dict, trainer_state: dict, keep: int = 2) -> Path:
    """Write the checkpoint of ``step`` and point ``latest.json`` at it; keep the last ``keep``."""
    ckpt_dir = Path(ckpt_dir)
    tag = f"step-{step:08d}"
    weights = {k: v.detach().cpu().contiguous() for k, v in model_state.items()}
    opt_tensors, opt_meta = _flatten_optimizer(optimizer_state)
    atomic_write(ckpt_dir / f"{tag}.safetensors", lambda p: save_file(weights, str(p)))
    atomic_write(ckpt_dir / f"{tag}.optim.safetensors", lambda p: save_file(opt_tensors, str(p)))
    state = {"step": step, "optimizer": opt_meta, **trainer_state}
    atomic_write_text(ckpt_dir / f"{tag}.json", json.dumps(state))
    atomic_write_text(ckpt_dir / LATEST, json.dumps({"step": step, "tag": tag}))
    tags = sorted(p.name[: -len(".json")] for p in ckpt_dir.glob("step-*.json"))
    for old in tags[:-keep]:
        for suffix in (".safetensors", ".optim.safetensors", ".json"):
            (ckpt_dir / f"{old}{suffix}").unlink(missing_ok=True)
    return ckpt_dir / f"{tag}.safetensors"


def latest_checkpoint(ckpt_dir: str | Path) -> str | None:
    """The tag of the newest complete checkpoint, or None."""
    pointer = Path(ckpt_dir) / LATEST
    if not pointer.is_file():
        return None
    return json.loads(pointer.read_text())["tag"]


def load_weights(ckpt_dir: str | Path, tag: str | None = None) -> dict[str, torch.Tensor]:
    """Model weights of checkpoint ``tag`` (default: the latest)."""
    tag = tag or latest_checkpoint(ckpt_dir)
    if tag is None:
        raise FileNotFoundError(f"no checkpoint in {ckpt_dir}")
    return load_file(str(Path(ckpt_dir) / f"{tag}.safetensors"))


def load_checkpoint(ckpt_dir: str | Path, tag: str | None = None) -> tuple[dict, dict, dict]:
    """``(model_state, optimizer_state, trainer_state)`` of checkpoint ``tag`` (default: latest)."""
    tag = tag or latest_checkpoint(ckpt_dir)
    if tag is None:
        raise FileNotFoundError(f"no checkpoint in {ckpt_dir}")
    ckpt_dir = Path(ckpt_dir)
    trainer_state = json.loads((ckpt_dir / f"{tag}.json").read_text())
    opt_meta = trainer_state.pop("optimizer")
    optimizer_state = _unflatten_optimizer(load_file(str(ckpt_dir / f"{tag}.optim.safetensors")), opt_meta)
    return load_weights(ckpt_dir, tag), optimizer_state, trainer_state
