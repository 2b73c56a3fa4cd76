"""Tiny image folders for the image plugin's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def blob(rng: np.random.Generator, size: int = 16, cls: int = 0) -> np.ndarray:
    """A ``[size, size, 3]`` uint8 image: a bright square whose place depends on ``cls``."""
    img = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
    q = size // 2
    r, c = divmod(cls % 4, 2)
    img[r * q:(r + 1) * q, c * q:(c + 1) * q] = 200 + rng.integers(0, 50, 3)
    return img


def image_folder(root: Path, classes: int = 2, per_class: int = 6, size: int = 16,
                 suffix: str = ".png", seed: int = 0) -> Path:
    """``root/c<k>/<i><suffix>`` with ``per_class`` images of each class."""
    rng = np.random.default_rng(seed)
    for k in range(classes):
        (root / f"c{k}").mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(blob(rng, size, k)).save(root / f"c{k}" / f"{i}{suffix}")
    return root


def flat_folder(root: Path, count: int = 6, size: int = 16, seed: int = 0) -> Path:
    """``root/<i>.png``: images without class sub-folders."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(blob(rng, size, i)).save(root / f"{i}.png")
    return root
