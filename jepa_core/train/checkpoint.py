"""Kill-safe checkpoints: safetensors weights + optimizer tensors + JSON trainer state.

Every file is written to a temporary name, flushed to disk and renamed into place; the
pointer ``latest.json`` is replaced last. A process killed at any moment therefore leaves
the previous checkpoint (or the new one) whole and loadable, never a half-written one.

Reading trusts nothing: a checkpoint whose files are missing, truncated, garbage or hold
NaN/inf is skipped with a reason that names the file, and :func:`load_latest` falls back
to the newest intact one (scanning the directory when ``latest.json`` is missing or
broken). ``latest.json`` may only name a checkpoint of its own directory
(``step-NNNNNNNN``), never a path elsewhere. Weights or optimizer state that are not
finite are never written.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

LATEST = "latest.json"
#: The name of a checkpoint in its directory: ``step-`` and the step, zero-padded to 8 digits.
TAG = re.compile(r"step-(\d{8,})")
_SUFFIXES = (".safetensors", ".optim.safetensors", ".json")


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or read; the message names the file and the fault."""


class NonFiniteCheckpointError(CheckpointError):
    """Weights or optimizer state holding NaN/inf, refused by :func:`save_checkpoint`."""

    def __init__(self, step: int, names: list[str]) -> None:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        super().__init__(f"the state at step {step} holds NaN/inf values ({shown}); not written")
        self.step = step
        self.names = names


def checkpoint_tag(step: int) -> str:
    """The file-name stem of the checkpoint of ``step``.

    Examples:
        >>> checkpoint_tag(42)
        'step-00000042'
    """
    return f"step-{step:08d}"


def tag_step(tag: str) -> int:
    """The step of a checkpoint tag; a :class:`CheckpointError` for anything else.

    Examples:
        >>> tag_step("step-00000042")
        42
    """
    match = TAG.fullmatch(tag) if isinstance(tag, str) else None
    if match is None:
        raise CheckpointError(f"{tag!r} is not a checkpoint name (expected step-NNNNNNNN)")
    return int(match.group(1))


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


def _write_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    save_file(tensors, str(path))


def nonfinite_names(tensors: dict[str, torch.Tensor]) -> list[str]:
    """Names of the floating-point tensors that hold a NaN or an inf.

    Examples:
        >>> nonfinite_names({"a": torch.ones(2), "b": torch.tensor([0.0, float("nan")])})
        ['b']
    """
    return [name for name, t in tensors.items()
            if t.is_floating_point() and t.numel() and not bool(torch.isfinite(t).all())]


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


def _write_failure(path: Path, step: int, error: Exception, ckpt_dir: Path) -> CheckpointError:
    full = getattr(error, "errno", None) == errno.ENOSPC or "No space left" in str(error)
    why = "the disk is full" if full else (getattr(error, "strerror", None) or str(error))
    kept = latest_checkpoint(ckpt_dir)
    now = f"latest.json names {kept}, which is whole" if kept else "no earlier checkpoint exists"
    return CheckpointError(f"could not write the checkpoint of step {step} ({path}): {why}; the partial "
                           f"files were removed and {now}. Free some space (or fix the cause) and "
                           "run again with --resume")


def _repoint_if_dangling(ckpt_dir: Path, tag: str) -> None:
    """After ``tag``'s files were removed, point ``latest.json`` at a whole checkpoint if it named ``tag``."""
    if latest_checkpoint(ckpt_dir) != tag:
        return
    tags = complete_checkpoints(ckpt_dir)
    try:
        if tags:
            atomic_write_text(ckpt_dir / LATEST, json.dumps({"step": tag_step(tags[0]), "tag": tags[0]}))
        else:
            (ckpt_dir / LATEST).unlink(missing_ok=True)
    except OSError:
        pass  # still full: load_latest skips a pointer to missing files


def discard_checkpoint(ckpt_dir: str | Path, tag: str) -> str | None:
    """Delete checkpoint ``tag`` (found unusable) and point ``latest.json`` at the newest other one.

    Returns:
        The tag ``latest.json`` names afterwards, or None when no checkpoint is left.
    """
    ckpt_dir = Path(ckpt_dir)
    for suffix in _SUFFIXES:
        (ckpt_dir / f"{tag}{suffix}").unlink(missing_ok=True)
    _repoint_if_dangling(ckpt_dir, tag)
    return latest_checkpoint(ckpt_dir)


def save_checkpoint(ckpt_dir: str | Path, step: int, model_state: dict[str, torch.Tensor],
                    optimizer_state: dict, trainer_state: dict, keep: int = 2) -> Path:
    """Write the checkpoint of ``step`` and point ``latest.json`` at it; keep the last ``keep``.

    Args:
        ckpt_dir: the run's ``checkpoints/`` folder.
        step: steps done; names the files ``step-NNNNNNNN.*``.
        model_state: the whole model state (CPU or device tensors).
        optimizer_state: ``optimizer.state_dict()`` form (integer parameter ids).
        trainer_state: JSON-able extras (loss, total steps, world size).
        keep: how many checkpoints up to and including this one to keep; older ones are
            deleted. Checkpoints of later steps (of an abandoned attempt) are left alone.

    Returns:
        The path of the new weights file.

    Raises:
        NonFiniteCheckpointError: the weights or optimizer state hold NaN/inf (nothing is
            written; the previous checkpoint stays the latest).
        CheckpointError: a write failed (disk full, ...): the new checkpoint's files are
            removed and ``latest.json`` still names a whole checkpoint.
    """
    ckpt_dir = Path(ckpt_dir)
    tag = checkpoint_tag(step)
    weights = {k: v.detach().cpu().contiguous() for k, v in model_state.items()}
    opt_tensors, opt_meta = _flatten_optimizer(optimizer_state)
    bad = nonfinite_names(weights) + [f"optimizer {n}" for n in nonfinite_names(opt_tensors)]
    if bad:
        raise NonFiniteCheckpointError(step, bad)
    files = [ckpt_dir / f"{tag}{suffix}" for suffix in _SUFFIXES]
    state = {"step": step, "optimizer": opt_meta, **trainer_state}
    target = files[0]
    try:
        files[2].unlink(missing_ok=True)  # rewriting a tag: it is incomplete until its .json is back
        atomic_write(files[0], lambda p: _write_tensors(weights, p))
        target = files[1]
        atomic_write(files[1], lambda p: _write_tensors(opt_tensors, p))
        target = files[2]
        atomic_write_text(files[2], json.dumps(state))
        target = ckpt_dir / LATEST
        atomic_write_text(target, json.dumps({"step": step, "tag": tag}))
    except (OSError, SafetensorError) as e:
        for path in files:
            path.unlink(missing_ok=True)
        _repoint_if_dangling(ckpt_dir, tag)
        raise _write_failure(target, step, e, ckpt_dir) from e
    _prune(ckpt_dir, tag, keep)
    return files[0]


def _tags_on_disk(ckpt_dir: Path) -> dict[str, set[str]]:
    """``{tag: suffixes present}`` for every file named like a checkpoint."""
    found: dict[str, set[str]] = {}
    for path in ckpt_dir.glob("step-*"):
        for suffix in (".optim.safetensors", ".safetensors", ".json"):  # longest first
            stem = path.name[: -len(suffix)]
            if path.name.endswith(suffix) and TAG.fullmatch(stem):
                found.setdefault(stem, set()).add(suffix)
                break
    return found


def complete_checkpoints(ckpt_dir: str | Path) -> list[str]:
    """Tags with all three files present, newest step first (their contents are not checked)."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return []
    tags = [t for t, suffixes in _tags_on_disk(ckpt_dir).items() if suffixes == set(_SUFFIXES)]
    return sorted(tags, key=tag_step, reverse=True)


def _prune(ckpt_dir: Path, tag: str, keep: int) -> None:
    """Delete checkpoints older than the ``keep - 1`` before ``tag``, and stray temp files.

    Never deletes ``tag`` itself, the checkpoint ``latest.json`` names, or later steps.
    """
    step = tag_step(tag)
    protected = {tag, latest_checkpoint(ckpt_dir)}
    on_disk = _tags_on_disk(ckpt_dir)
    complete = [t for t in complete_checkpoints(ckpt_dir) if tag_step(t) < step]
    doomed = set(complete[max(keep - 1, 0):])
    doomed |= {t for t, s in on_disk.items() if s != set(_SUFFIXES) and tag_step(t) < step}
    for old in doomed - protected:
        for suffix in _SUFFIXES:
            (ckpt_dir / f"{old}{suffix}").unlink(missing_ok=True)
    # temp files of a killed writer: ours, and safetensors' own (.tmpXXXXXX); one writer holds the run lock
    for stray in [*ckpt_dir.glob(".step-*"), *ckpt_dir.glob(f".{LATEST}.*"), *ckpt_dir.glob(".tmp*")]:
        stray.unlink(missing_ok=True)


def read_pointer(ckpt_dir: str | Path) -> str | None:
    """The tag ``latest.json`` names, or None when there is no ``latest.json``.

    Raises:
        CheckpointError: ``latest.json`` is not JSON, has no ``tag``, or names something that
            is not a checkpoint of this directory (a path, ``../..``).
    """
    pointer = Path(ckpt_dir) / LATEST
    if not pointer.is_file():
        return None
    try:
        tag = json.loads(pointer.read_text())["tag"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{pointer} is not a valid checkpoint pointer ({type(e).__name__}: {e})") from None
    if not isinstance(tag, str) or TAG.fullmatch(tag) is None:
        raise CheckpointError(f"{pointer} names {tag!r}, which is not a checkpoint of this run "
                              "(expected step-NNNNNNNN in the same folder)")
    return tag


def latest_checkpoint(ckpt_dir: str | Path) -> str | None:
    """The tag ``latest.json`` names, else (missing or broken) the newest complete one, or None.

    This looks at names only; :func:`load_latest` also checks the contents.
    """
    try:
        tag = read_pointer(ckpt_dir)
    except CheckpointError:
        tag = None
    if tag is not None:
        return tag
    tags = complete_checkpoints(ckpt_dir)
    return tags[0] if tags else None


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    try:
        tensors = load_file(str(path))
    except (OSError, SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path} is not a readable safetensors file (truncated or damaged: "
                              f"{str(e).strip() or type(e).__name__})") from None
    bad = nonfinite_names(tensors)
    if bad:
        raise CheckpointError(f"{path} holds NaN/inf values ({', '.join(bad[:3])}"
                              f"{' and more' if len(bad) > 3 else ''})")
    return tensors


def _load_trainer_state(path: Path, step: int) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing")
    try:
        state = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise CheckpointError(f"{path} is not valid JSON (truncated or damaged: {e})") from None
    opt = state.get("optimizer") if isinstance(state, dict) else None
    if not isinstance(opt, dict) or not {"param_groups", "state"} <= set(opt) or state.get("step") != step:
        raise CheckpointError(f"{path} is not the trainer state of step {step} (expected an object with "
                              "'step' and 'optimizer')")
    return state


def load_weights(ckpt_dir: str | Path, tag: str | None = None) -> dict[str, torch.Tensor]:
    """Model weights of checkpoint ``tag`` (default: the newest intact one).

    Raises:
        FileNotFoundError: no checkpoint at all.
        CheckpointError: the file is missing, damaged or not finite (naming it).
    """
    if tag is None:
        found = load_latest(ckpt_dir, optimizer=False)
        if found is None:
            raise FileNotFoundError(f"no checkpoint in {ckpt_dir}")
        return found.model_state
    return _load_tensors(Path(ckpt_dir) / f"{tag}.safetensors")


def load_checkpoint(ckpt_dir: str | Path, tag: str | None = None) -> tuple[dict, dict, dict]:
    """``(model_state, optimizer_state, trainer_state)`` of checkpoint ``tag`` (default: newest intact).

    Raises:
        FileNotFoundError: no checkpoint at all.
        CheckpointError: a file is missing, damaged or not finite (naming it).
    """
    if tag is None:
        found = load_latest(ckpt_dir)
        if found is None:
            raise FileNotFoundError(f"no checkpoint in {ckpt_dir}")
        return found.model_state, found.optimizer_state, found.trainer_state
    ckpt_dir = Path(ckpt_dir)
    trainer_state = _load_trainer_state(ckpt_dir / f"{tag}.json", tag_step(tag))
    opt_meta = trainer_state.pop("optimizer")
    opt_tensors = _load_tensors(ckpt_dir / f"{tag}.optim.safetensors")
    try:
        optimizer_state = _unflatten_optimizer(opt_tensors, opt_meta)
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{ckpt_dir / f'{tag}.json'}: the optimizer entry does not match "
                              f"{tag}.optim.safetensors ({e})") from None
    return _load_tensors(ckpt_dir / f"{tag}.safetensors"), optimizer_state, trainer_state


@dataclass
class FoundCheckpoint:
    """The checkpoint :func:`load_latest` settled on, and why it skipped newer ones."""

    tag: str
    step: int
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict | None
    trainer_state: dict | None
    skipped: list[str]


def load_latest(ckpt_dir: str | Path, optimizer: bool = True) -> FoundCheckpoint | None:
    """Load the newest intact checkpoint: ``latest.json``'s, else the newest that loads.

    The order tried: the checkpoint ``latest.json`` names (if it is valid), then every
    complete checkpoint, newest step first. Each one skipped adds a reason naming the file
    to ``skipped`` (the caller warns).

    Args:
        ckpt_dir: the run's ``checkpoints/`` folder.
        optimizer: also load (and check) the optimizer and trainer state, to resume.

    Returns:
        The checkpoint, or None when the folder holds none.

    Raises:
        CheckpointError: checkpoints exist but none is intact (the message lists why).
    """
    ckpt_dir = Path(ckpt_dir)
    skipped: list[str] = []
    try:
        pointer = read_pointer(ckpt_dir)
    except CheckpointError as e:
        skipped.append(str(e))
        pointer = None
    tags = complete_checkpoints(ckpt_dir)
    if pointer is None and not skipped and tags:
        skipped.append(f"{ckpt_dir / LATEST} is missing")
    for tag in ([pointer] if pointer else []) + [t for t in tags if t != pointer]:
        try:
            if optimizer:
                model_state, optimizer_state, trainer_state = load_checkpoint(ckpt_dir, tag)
            else:
                model_state, optimizer_state, trainer_state = load_weights(ckpt_dir, tag), None, None
        except CheckpointError as e:
            skipped.append(str(e))
            continue
        return FoundCheckpoint(tag, tag_step(tag), model_state, optimizer_state, trainer_state, skipped)
    if pointer is not None or tags:
        raise CheckpointError(f"no intact checkpoint in {ckpt_dir}: " + "; ".join(skipped))
    return None
