"""The embedded demo: clips of a shape moving in one of four directions (label = direction).

Every clip is 16 frames of 32 x 32 RGB: one shape (square, disc, triangle or cross, 7-11
px, a random colour) on a random background colour with per-frame noise, moving 1-2 px
per frame up, down, left or right and wrapping around the frame's edges. Start position,
shape, size, colours and speed are drawn independently of the direction, and wrapping
keeps every position equally likely in every frame, so a single frame says nothing about
the label: only motion does. (The mean over frames is a streak, so it tells horizontal
from vertical motion, but not which way.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_core.demo_cache import cached_folder


#: Bump when the written clips change, so stale caches are regenerated.
VERSION = 1
SIZE = 32
FRAMES = 16
PER_CLASS = 200
#: Class name -> (dy, dx) unit motion.
DIRECTIONS = {"down": (1, 0), "left": (0, -1), "right": (0, 1), "up": (-1, 0)}
SHAPES = ("square", "disc", "triangle", "cross")


def _shape_mask(kind: str, size: int, dy: np.ndarray, dx: np.ndarray) -> np.ndarray:
    """Pixels inside a shape of ``size`` centred at offset 0 (``dy``/``dx``: signed offsets)."""
    r = size / 2
    if kind == "square":
        return (np.abs(dy) <= r) & (np.abs(dx) <= r)
    if kind == "disc":
        return dy ** 2 + dx ** 2 <= r ** 2
    if kind == "triangle":
        return (dy >= -r) & (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    return ((np.abs(dy) <= r) & (np.abs(dx) <= r / 3)) | ((np.abs(dx) <= r) & (np.abs(dy) <= r / 3))


def render_clip(rng: np.random.Generator, direction: tuple[int, int], frames: int = FRAMES,
                size: int = SIZE) -> np.ndarray:
    """One clip ``[frames, size, size, 3]`` uint8 of a shape moving by ``direction`` (wrapping)."""
    kind = SHAPES[rng.integers(len(SHAPES))]
    side = int(rng.integers(7, 12))
    speed = int(rng.integers(1, 3))
    y0, x0 = rng.uniform(0, size, 2)
    fg = rng.integers(0, 256, 3)
    bg = rng.integers(0, 256, 3)
    while np.abs(fg - bg).sum() < 200:  # a visible shape
        fg = rng.integers(0, 256, 3)
    grid_y, grid_x = np.mgrid[0:size, 0:size].astype(np.float64)
    out = np.empty((frames, size, size, 3), dtype=np.uint8)
    for t in range(frames):
        cy = (y0 + direction[0] * speed * t) % size
        cx = (x0 + direction[1] * speed * t) % size
        dy = (grid_y - cy + size / 2) % size - size / 2  # signed offsets on the torus
        dx = (grid_x - cx + size / 2) % size - size / 2
        inside = _shape_mask(kind, side, dy, dx)[..., None]
        pixels = np.where(inside, fg, bg) + rng.normal(0, 8, (size, size, 3))
        out[t] = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return out


def write_clips(root: Path, per_class: int = PER_CLASS, seed: int = 0) -> None:
    """``per_class`` clips per direction as ``root/<direction>/<index>.npy``."""
    rng = np.random.default_rng(seed)
    for name in DIRECTIONS:
        (root / name).mkdir(parents=True, exist_ok=True)
    for i in range(per_class * len(DIRECTIONS)):  # classes interleaved: one stream for all
        name = list(DIRECTIONS)[i % len(DIRECTIONS)]
        np.save(root / name / f"{i:04d}.npy", render_clip(rng, DIRECTIONS[name]))


def demo_root() -> Path:
    """Write (once) and return ``<cache>/video_motion_v<VERSION>/clips``, 4 class folders.

    Written to a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    return cached_folder(f"video_motion_v{VERSION}_{SIZE}", lambda tmp: write_clips(tmp / "clips")) / "clips"
