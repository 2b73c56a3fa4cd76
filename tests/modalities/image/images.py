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


def png16(path: Path, pixels: np.ndarray) -> Path:
    """A 16-bit-per-channel RGB (``[H, W, 3]``) or RGBA (``[H, W, 4]``) PNG, which Pillow
    cannot write itself: chunks assembled by hand."""
    import struct
    import zlib

    h, w, c = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 16, {3: 2, 4: 6}[c], 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))
    return path
