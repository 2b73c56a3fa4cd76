"""The trajectory format: one ``.npz`` per episode (or per shard of episodes), read lazily.

A file holds

- ``observations``: ``[T, H, W, C]`` ``uint8`` images, or ``[T, S]`` float state vectors;
- ``actions``: ``[T, A]`` float, ``actions[t]`` the action taken after seeing
  ``observations[t]`` (the last one leads past the stored frames and is never a target);
- optional ``rewards`` ``[T]`` and ``terminals`` ``[T]`` (bool);
- optional ``states`` ``[T, S]`` float: the true low-dimensional state (an agent's
  position), never trained on, read by position probes;
- optional ``episode_lengths`` ``[E]`` (int): the file is a shard of ``E`` episodes laid
  end to end along ``T`` (their sum must be ``T``); without it, one episode.

Every file of a dataset must have the same observation shape and action width. Files are
opened once when a dataset is listed (their headers and actions only; images are read
when a window is asked for) and validated: mismatched ``T``, NaN/inf actions or state
observations, a wrong rank or dtype each raise a :class:`~jepa_core.modality.DataError`
naming the file and the key. Episodes shorter than a window are skipped with a count; no
episode left is an error.

A training sample is a window of ``history + horizon`` frames ``frame_skip`` env steps
apart, inside one episode, with the actions between consecutive frames concatenated
(action chunking): ``obs [W, ...]``, ``actions [W, frame_skip * A]``.

Examples:
    >>> import tempfile, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> write_episode(f"{d}/ep0.npz", np.zeros((6, 2), np.float32), np.zeros((6, 2), np.float32))
    >>> ds = WindowDataset(list_episodes(d), window=4, frame_skip=1)
    >>> len(ds), ds[0]["obs"].shape, ds[0]["actions"].shape
    (3, torch.Size([4, 2]), torch.Size([4, 2]))
"""

from __future__ import annotations

import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from jepa_core.modality import DataError

REQUIRED = ("observations", "actions")


def write_episode(path: str | Path, observations: np.ndarray, actions: np.ndarray,
                  rewards: np.ndarray | None = None, terminals: np.ndarray | None = None,
                  states: np.ndarray | None = None) -> None:
    """Write one episode in the trajectory format (``np.savez_compressed``)."""
    arrays = {"observations": np.asarray(observations), "actions": np.asarray(actions, np.float32)}
    if rewards is not None:
        arrays["rewards"] = np.asarray(rewards, np.float32)
    if terminals is not None:
        arrays["terminals"] = np.asarray(terminals, bool)
    if states is not None:
        arrays["states"] = np.asarray(states, np.float32)
    np.savez_compressed(path, **arrays)


def _header_shape(path: Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of array ``key`` of an ``.npz`` without reading its data."""
    with zipfile.ZipFile(path) as z, z.open(f"{key}.npy") as f:
        major, _ = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    return tuple(shape), dtype


@dataclass(frozen=True)
class Episode:
    """One episode: its file, where it starts in the file's arrays, its length."""

    path: Path
    start: int
    length: int


@dataclass
class Episodes:
    """The episodes of a dataset and what every file agrees on."""

    episodes: list[Episode]
    obs_shape: tuple[int, ...]
    obs_dtype: str
    action_dim: int
    source: str

    @property
    def pixels(self) -> bool:
        """Whether observations are images ``[H, W, C]`` (else state vectors ``[S]``)."""
        return len(self.obs_shape) == 3


def _check_file(path: Path) -> tuple[list[Episode], tuple[int, ...], np.dtype, int]:
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file (0 bytes), not a .npz trajectory file")
    try:
        with np.load(path) as data:
            keys = set(data.files)
            missing = [k for k in REQUIRED if k not in keys]
            if missing:
                raise DataError(f"{path}: missing {missing[0]!r}; a trajectory file holds "
                                f"'observations' [T, ...] and 'actions' [T, A] (found {sorted(keys)})")
            actions = data["actions"]
            lengths = data["episode_lengths"] if "episode_lengths" in keys else None
            extra = {k: data[k] for k in ("rewards", "terminals", "states") if k in keys}
            obs_shape, obs_dtype = _header_shape(path, "observations")
            obs_state = data["observations"] if len(obs_shape) == 2 else None
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: not a readable .npz trajectory file ({e})") from None
    if len(obs_shape) not in (2, 4):
        raise DataError(f"{path}: 'observations' must be [T, H, W, C] images or [T, S] states, "
                        f"got shape {obs_shape}")
    if len(obs_shape) == 4 and obs_dtype != np.uint8:
        raise DataError(f"{path}: image 'observations' must be uint8, got {obs_dtype}")
    if actions.ndim != 2 or not np.issubdtype(actions.dtype, np.number):
        raise DataError(f"{path}: 'actions' must be a numeric [T, A] array, got shape {actions.shape}")
    t = obs_shape[0]
    if actions.shape[0] != t:
        raise DataError(f"{path}: 'observations' has T={t} steps but 'actions' has "
                        f"{actions.shape[0]}; both must have one row per step")
    for key, arr in extra.items():
        if arr.shape[:1] != (t,):
            raise DataError(f"{path}: {key!r} must have T={t} rows, got shape {arr.shape}")
    bad = ~np.isfinite(actions.astype(np.float64))
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise DataError(f"{path}: 'actions' holds NaN/inf (first at step {row}); every action must be finite")
    if obs_state is not None and not np.isfinite(obs_state.astype(np.float64)).all():
        row = int(np.argwhere(~np.isfinite(obs_state.astype(np.float64)))[0][0])
        raise DataError(f"{path}: 'observations' holds NaN/inf (first at step {row})")
    if lengths is None:
        episodes = [Episode(path, 0, t)]
    else:
        lengths = np.asarray(lengths).astype(int).reshape(-1)
        if lengths.sum() != t or (lengths < 0).any():
            raise DataError(f"{path}: 'episode_lengths' must be non-negative and sum to T={t}, "
                            f"got sum {int(lengths.sum())}")
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        episodes = [Episode(path, int(s), int(n)) for s, n in zip(starts, lengths)]
    return episodes, obs_shape[1:], obs_dtype, int(actions.shape[1])


def list_episodes(path: str | Path) -> Episodes:
    """Every episode of a ``.npz`` file or a folder of them (recursive), validated.

    Raises:
        DataError: no file, an unreadable or malformed file, or files that disagree on the
            observation shape or action width.
    """
    root = Path(path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(root.rglob("*.npz"))
    else:
        raise DataError(f"{root}: no such file or folder")
    if not files:
        raise DataError(f"{root}: no .npz trajectory files (see modalities.world.trajectories)")
    episodes: list[Episode] = []
    first: tuple | None = None
    for f in files:
        eps, shape, dtype, adim = _check_file(f)
        if first is None:
            first = (f, shape, dtype, adim)
        elif (shape, adim) != first[1:2] + first[3:]:
            raise DataError(f"{f}: observations {shape} / action width {adim} differ from "
                            f"{first[0]}'s {first[1]} / {first[3]}; every file must agree")
        episodes.extend(eps)
    return Episodes(episodes, tuple(first[1]), str(first[2]), first[3], str(root))


class WindowDataset(Dataset):
    """Windows of ``window`` frames inside single episodes, frames ``frame_skip`` steps apart.

    Args:
        episodes: from :func:`list_episodes`.
        window: frames per sample (``history + horizon``).
        frame_skip: env steps between frames; the actions in between are concatenated.
        stride: env steps between the starts of consecutive windows of an episode.
        cache: episodes kept decoded per process (files are read when first asked for).

    Raises:
        DataError: no episode is long enough for one window.

    Shapes:
        ``obs`` ``[window, ...]`` (uint8 images or float32 states),
        ``actions`` ``[window, frame_skip * A]``.
    """

    def __init__(self, episodes: Episodes, window: int, frame_skip: int = 1, stride: int = 1,
                 cache: int = 64) -> None:
        if window < 2 or frame_skip < 1 or stride < 1:
            raise DataError(f"need window >= 2, frame_skip >= 1, stride >= 1; got {window}, "
                            f"{frame_skip}, {stride}")
        self.info = episodes
        self.window, self.frame_skip, self.cache_size = window, frame_skip, cache
        span = window * frame_skip  # env steps a window covers, its last action chunk included
        self.span = span
        self.index: list[tuple[int, int]] = []
        kept, short = [], 0
        for ep in episodes.episodes:
            if ep.length < span:
                short += 1
                continue
            kept.append(ep)
            e = len(kept) - 1
            self.index.extend((e, s) for s in range(0, ep.length - span + 1, stride))
        self.episodes = kept
        self.skipped = short
        if not kept:
            raise DataError(f"{episodes.source}: all {short} episodes are shorter than a window of "
                            f"{window} frames x frame_skip {frame_skip} = {span} steps "
                            "(options.history + options.horizon); collect longer episodes or shorten the window")
        if short:
            warnings.warn(f"{episodes.source}: skipped {short} of {len(episodes.episodes)} episodes "
                          f"shorter than a window ({span} steps)", stacklevel=2)
        self._cache: OrderedDict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.index)

    def _episode(self, e: int) -> tuple[np.ndarray, np.ndarray]:
        ep = self.episodes[e]
        key = (str(ep.path), ep.start)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            with np.load(ep.path) as data:
                obs = data["observations"][ep.start:ep.start + ep.length]
                act = data["actions"][ep.start:ep.start + ep.length].astype(np.float32)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
            raise DataError(f"{ep.path}: cannot read the episode at step {ep.start} ({e}): the file is "
                            "damaged (listing checks its headers; frames are read when training "
                            "reaches them)") from None
        if obs.ndim == 2:
            obs = obs.astype(np.float32)
        self._cache[key] = (obs, act)
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return obs, act

    def __getitem__(self, i: int) -> dict:
        e, s = self.index[i]
        obs, act = self._episode(e)
        k, w = self.frame_skip, self.window
        frames = obs[s:s + w * k:k]
        chunks = act[s:s + w * k].reshape(w, k * act.shape[1])
        return {"obs": torch.from_numpy(np.ascontiguousarray(frames)),
                "actions": torch.from_numpy(np.ascontiguousarray(chunks))}
