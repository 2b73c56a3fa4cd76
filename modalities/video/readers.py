"""Listing clips and decoding their frames: video files (PyAV), arrays, frame folders, images.

What is a clip under ``--data``:

- a video file (``.mp4``, ``.avi``, ``.webm``, ``.mkv``, ``.mov``, ``.m4v``), decoded
  with PyAV (the ``video`` extra);
- an ``.npy``/``.npz`` array ``[T, H, W, C]`` uint8 with ``C`` in 1, 3, 4 (an ``.npz``
  holds one array, or one named ``video``);
- a folder of frame images (any Pillow format), frames in name order (numbers compared
  as numbers: ``frame_2`` before ``frame_10``), all of one size;
- an image file given as ``--data`` itself, or every image under ``--data images:PATH``:
  a one-frame clip, frame-level use of a video encoder (the frame is repeated to fill a
  tubelet, the other time steps are invalid tokens).

Files are listed and checked up front (headers, and with ``options.verify`` every video
decoded once); frames are decoded only when a sample is read, in the DataLoader workers.
"""

from __future__ import annotations

import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from jepa_core.modality import DataError
from modalities.image.readers import fit_square, to_rgb

from .options import ARRAY_SUFFIXES, IMAGE_SUFFIXES, VIDEO_SUFFIXES, VideoOptions
from .sampling import sampled_length, window_frames, window_starts

#: ``--data images:PATH``: every image file under PATH is a one-frame clip.
IMAGES_PREFIX = "images:"


class BadClipError(DataError):
    """A clip that cannot be read (names the file and what is wrong)."""


@dataclass(frozen=True)
class ClipItem:
    """One sample: window ``index`` (``-1``: the file's only one) of a clip.

    Args:
        path: the video or array file, the frame folder or the image.
        kind: ``video``, ``array``, ``frames`` or ``image``.
        num_frames: frames in the clip (before ``frame_step``).
        start: first sampled frame of the window.
        index: the window's number when the clip has several, else ``-1``.
    """

    path: str
    kind: str
    num_frames: int
    start: int = 0
    index: int = -1

    @property
    def name(self) -> str:
        return self.path if self.index < 0 else f"{self.path}[clip {self.index}]"


def natural_key(name: str) -> list:
    """Sort key comparing digit runs as numbers (``f2`` before ``f10``)."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _import_av(path: Path):
    try:
        import av
    except ImportError:
        raise BadClipError(f"{path}: reading {path.suffix.lower()} videos needs PyAV, which is not "
                           "installed: pip install 'jepa-core[video]' (or convert the clips to .npy "
                           "arrays or frame folders, which need nothing)") from None
    return av


def frame_files(folder: Path) -> list[Path]:
    """The frame images of a frame folder, in name order."""
    names = [f for f in os.listdir(folder)
             if Path(f).suffix.lower() in IMAGE_SUFFIXES and not f.startswith(".")]
    return [folder / f for f in sorted(names, key=natural_key)]


def find_clips(root: str | Path) -> list[tuple[Path, str]]:
    """Every clip under ``root`` as ``(path, kind)``, sorted (hidden files skipped).

    Raises:
        DataError: a missing path, a file of an unknown type, or a folder without clips.
    """
    text = str(root)
    images = text.startswith(IMAGES_PREFIX)
    root = Path(text[len(IMAGES_PREFIX):] if images else text)
    suffixes = VIDEO_SUFFIXES + ARRAY_SUFFIXES + IMAGE_SUFFIXES
    if root.is_file():
        suffix = root.suffix.lower()
        if suffix not in suffixes:
            raise DataError(f"{root}: not a video, array or image file (expected one of "
                            f"{', '.join(suffixes)})")
        kind = "video" if suffix in VIDEO_SUFFIXES else "array" if suffix in ARRAY_SUFFIXES else "image"
        return [(root, kind)]
    if not root.is_dir():
        raise DataError(f"{root}: no such file or folder")
    clips = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        names = [n for n in names if not n.startswith(".")]
        here = Path(folder)
        for n in names:
            suffix = Path(n).suffix.lower()
            if suffix in VIDEO_SUFFIXES:
                clips.append((here / n, "video"))
            elif suffix in ARRAY_SUFFIXES:
                clips.append((here / n, "array"))
            elif suffix in IMAGE_SUFFIXES and images:
                clips.append((here / n, "image"))
        if not images and any(Path(n).suffix.lower() in IMAGE_SUFFIXES for n in names):
            clips.append((here, "frames"))
    clips.sort(key=lambda c: natural_key(str(c[0])))
    if not clips:
        raise DataError(f"{root}: no clips found (looked recursively for videos "
                        f"{', '.join(VIDEO_SUFFIXES)}, arrays {', '.join(ARRAY_SUFFIXES)} and folders "
                        f"of frame images)")
    return clips


# -- checking ------------------------------------------------------------------------------

def open_array(path: Path) -> np.ndarray:
    """The ``[T, H, W, C]`` array of an ``.npy`` (memory-mapped) or ``.npz`` file, checked."""
    try:
        if path.suffix.lower() == ".npy":
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as z:
                if len(z.files) != 1 and "video" not in z.files:
                    raise BadClipError(f"{path}: an .npz clip needs one array or one named 'video', "
                                       f"found {z.files}")
                arr = z["video" if "video" in z.files else z.files[0]]
    except BadClipError:
        raise
    except (OSError, ValueError, EOFError) as e:
        raise BadClipError(f"{path}: not a readable {path.suffix} array ({e})") from None
    if arr.dtype != np.uint8:
        raise BadClipError(f"{path}: clip arrays must be uint8 [T, H, W, C], got dtype {arr.dtype}")
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise BadClipError(f"{path}: expected a clip array [T, H, W, C] with C in 1, 3, 4, got shape "
                           f"{tuple(arr.shape)} (rank {arr.ndim})")
    return arr


def _check_frame(path: Path, verify: bool) -> tuple[int, int]:
    try:
        with Image.open(path) as img:
            size = img.size
            if verify:
                img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise BadClipError(f"{path}: not a readable image ({e})") from None
    return size


def _check_frames(folder: Path, verify: bool) -> tuple[int, tuple[int, int]]:
    files = frame_files(folder)
    sizes = [_check_frame(f, verify) for f in files]
    for f, s in zip(files, sizes):
        if s != sizes[0]:
            raise BadClipError(f"{folder}: variable frame size inside one clip: {files[0].name} is "
                               f"{sizes[0][0]}x{sizes[0][1]}, {f.name} is {s[0]}x{s[1]} (every frame "
                               "of a clip must have the same size)")
    return len(files), sizes[0]


def _check_video(path: Path, verify: bool) -> tuple[int, tuple[int, int]]:
    av = _import_av(path)
    if path.stat().st_size == 0:
        raise BadClipError(f"{path}: empty file (0 bytes), not a video")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                kinds = sorted({s.type for s in container.streams})
                if {"audio", "subtitle"} & set(kinds):
                    raise BadClipError(f"{path}: no video stream (the file holds "
                                       f"{', '.join(kinds)} streams only)")
                raise BadClipError(f"{path}: truncated or undecodable video: no video stream found "
                                   f"(streams: {', '.join(kinds) or 'none'})")
            stream = container.streams.video[0]
            size = (stream.codec_context.width, stream.codec_context.height)
            count = int(stream.frames or 0)
            if verify or count == 0:
                count = 0
                for frame in container.decode(stream):
                    if (frame.width, frame.height) != size and count:
                        raise BadClipError(f"{path}: variable frame size inside one video: frame 0 is "
                                           f"{size[0]}x{size[1]}, frame {count} is "
                                           f"{frame.width}x{frame.height}")
                    size = (frame.width, frame.height)
                    count += 1
    except BadClipError:
        raise
    except (av.FFmpegError, OSError, ValueError, EOFError) as e:
        raise BadClipError(f"{path}: truncated or undecodable video ({e})") from None
    if count == 0:
        raise BadClipError(f"{path}: the video stream holds no decodable frames (truncated?)")
    return count, size


def check_clip(path: Path, kind: str, opts: VideoOptions) -> list[ClipItem]:
    """The samples of one clip, after checking it.

    Raises:
        BadClipError: unreadable, no video stream, variable frame size, frames smaller than
            one patch, or fewer sampled frames than one tubelet.
    """
    if kind == "array":
        arr = open_array(path)
        count, size = arr.shape[0], (arr.shape[2], arr.shape[1])
    elif kind == "frames":
        count, size = _check_frames(path, opts.verify)
    elif kind == "image":
        count, size = 1, _check_frame(path, opts.verify)
    else:
        count, size = _check_video(path, opts.verify)
    if min(size) < opts.patch_size:
        raise BadClipError(f"{path}: {size[0]}x{size[1]} frames are smaller than one "
                           f"{opts.patch_size}x{opts.patch_size} patch (options.patch_size)")
    length = sampled_length(count, opts.frame_step)
    if kind != "image" and length < opts.tubelet_size:
        raise BadClipError(f"{path}: {count} frame(s) ({length} at options.frame_step="
                           f"{opts.frame_step}) is shorter than one tubelet of options.tubelet_size="
                           f"{opts.tubelet_size} frames")
    starts = window_starts(length, opts.window, opts.clips_per_video)
    if len(starts) == 1:
        return [ClipItem(str(path), kind, count, starts[0])]
    return [ClipItem(str(path), kind, count, s, k) for k, s in enumerate(starts)]


def list_clips(root: str | Path, opts: VideoOptions, workers: int = 8) -> list[ClipItem]:
    """Every sample under ``root``, checked up front.

    Raises:
        DataError: a bad clip (with ``on_bad_video=stop``), or no readable clip at all.
    """
    clips = find_clips(root)

    def check(clip: tuple[Path, str]) -> list[ClipItem] | BadClipError:
        try:
            return check_clip(clip[0], clip[1], opts)
        except BadClipError as e:
            return e

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(check, clips))
    bad = [r for r in results if isinstance(r, BadClipError)]
    if bad and opts.on_bad_video == "stop":
        raise DataError(f"{bad[0]} (options.on_bad_video=skip leaves bad clips out)")
    if bad:
        shown = "; ".join(str(b) for b in bad[:3])
        warnings.warn(f"skipped {len(bad)} bad clip(s) of {len(clips)}: {shown}"
                      + (" ..." if len(bad) > 3 else ""), stacklevel=2)
    items = [it for r in results if not isinstance(r, BadClipError) for it in r]
    if not items:
        raise DataError(f"{root}: no readable clips (all {len(clips)} were bad)")
    return items


# -- decoding ------------------------------------------------------------------------------

class ClipDecoder:
    """Decodes a :class:`ClipItem` to ``[window, S, S, 3]`` uint8 and its real frame count."""

    def __init__(self, opts: VideoOptions) -> None:
        self.opts = opts
        self._arrays: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict:  # workers reopen arrays themselves
        return {**self.__dict__, "_arrays": {}}

    def blank(self) -> np.ndarray:
        """The grey window that stands in for an undecodable clip."""
        s = self.opts.image_size
        return np.full((self.opts.window, s, s, 3), 128, dtype=np.uint8)

    def frame_plan(self, item: ClipItem) -> tuple[list[int], int]:
        """File frame indices of the window (padded to ``window``) and the real count."""
        o = self.opts
        if item.kind == "image":
            return [0] * o.window, 1
        length = sampled_length(item.num_frames, o.frame_step)
        idx, real = window_frames(length, item.start, o.window, o.frames_per_clip, o.short)
        return [i * o.frame_step for i in idx], real

    def _raw(self, item: ClipItem, wanted: list[int]) -> dict[int, np.ndarray]:
        path = Path(item.path)
        if item.kind == "array":
            if item.path not in self._arrays:
                self._arrays[item.path] = open_array(path)
            arr = self._arrays[item.path]
            return {i: np.asarray(arr[i]) for i in set(wanted)}
        if item.kind in ("frames", "image"):
            files = frame_files(path) if item.kind == "frames" else [path]
            out = {}
            for i in set(wanted):
                with Image.open(files[i]) as img:
                    out[i] = to_rgb(img)
            return out
        av = _import_av(path)
        need, last, out = set(wanted), max(wanted), {}
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(container.decode(stream)):
                if i in need:
                    out[i] = frame.to_ndarray(format="rgb24")
                if i >= last:
                    break
        missing = need - out.keys()
        if missing:
            raise BadClipError(f"{item.name}: the video ends after {len(out)} of the expected frames "
                               f"(frame {min(missing)} is missing; truncated?)")
        return out

    def __call__(self, item: ClipItem) -> tuple[np.ndarray, int]:
        wanted, real = self.frame_plan(item)
        try:
            raw = self._raw(item, wanted)
        except BadClipError:
            raise
        except Exception as e:  # PyAV's and Pillow's errors: the file changed since listing
            raise BadClipError(f"{item.name}: cannot decode the clip ({e})") from None
        size = self.opts.image_size
        frames = {}
        for i, rgb in raw.items():
            if rgb.ndim == 2:
                rgb = rgb[..., None]
            rgb = np.repeat(rgb, 3, axis=2) if rgb.shape[2] == 1 else rgb[..., :3]
            frames[i] = fit_square(np.ascontiguousarray(rgb), size)
        return np.stack([frames[i] for i in wanted]), real
