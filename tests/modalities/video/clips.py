"""Tiny clips written by the tests: arrays, frame folders and videos (PyAV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def moving_clip(frames: int = 6, size: int = 16, direction: int = 0, seed: int = 0) -> np.ndarray:
    """``[frames, size, size, 3]`` uint8: a bright square moving right (0) or down (1)."""
    rng = np.random.default_rng(seed)
    out = np.full((frames, size, size, 3), 40, dtype=np.uint8)
    y, x = rng.integers(0, size - 4, 2)
    for t in range(frames):
        yy, xx = (y, (x + t) % (size - 4)) if direction == 0 else ((y + t) % (size - 4), x)
        out[t, yy:yy + 4, xx:xx + 4] = (250, 200 - 20 * (seed % 5), 30)
    return out


def write_npy(path: Path, clip: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, clip)
    return path


def write_frames(folder: Path, clip: np.ndarray, names: list[str] | None = None) -> Path:
    """One PNG per frame, ``frame_<t>.png`` (unpadded numbers: tests the name order)."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(clip):
        name = names[t] if names else f"frame_{t}.png"
        Image.fromarray(frame).save(folder / name)
    return folder


def write_video(path: Path, clip: np.ndarray, codec: str = "mpeg4", rate: int = 10) -> Path:
    """An mp4 (or other container by suffix) of the clip through PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = clip.shape[2], clip.shape[1]
        stream.pix_fmt = "yuv420p"
        for frame in clip:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_audio(path: Path, seconds: float = 0.2, rate: int = 8000) -> Path:
    """An audio-only file (no video stream) through PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=rate)
        samples = np.zeros((1, int(seconds * rate)), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def class_folder(root: Path, per_class: int = 6, frames: int = 6, size: int = 16) -> Path:
    """Two classes (motion right / down) mixing .npy clips, frame folders and mp4 videos."""
    for c in range(2):
        for i in range(per_class):
            clip = moving_clip(frames, size, c, seed=10 * c + i)
            kind = i % 3
            if kind == 0:
                write_npy(root / f"c{c}" / f"clip{i}.npy", clip)
            elif kind == 1:
                write_frames(root / f"c{c}" / f"clip{i}", clip)
            else:
                write_video(root / f"c{c}" / f"clip{i}.mp4", clip)
    return root
