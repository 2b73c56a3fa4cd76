"""The embedded demo dataset: scikit-learn's handwritten digits as a small ImageFolder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from jepa_core.demo_cache import cached_folder

#: Bump when the written images change, so stale caches are regenerated.
VERSION = 1
SIZE = 32



def write_digits(root: Path, size: int = SIZE) -> None:
    """The 1797 8 x 8 digits of ``sklearn.datasets.load_digits`` (UCI optical recognition
    of handwritten digits), upsampled bicubically to ``size`` px, as grayscale PNGs in
    ``root/<digit>/<index>.png``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i, (img, label) in enumerate(zip(digits.images, digits.target)):
        pixels = np.clip(np.rint(img * (255.0 / 16.0)), 0, 255).astype(np.uint8)
        folder = root / str(int(label))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels, mode="L").resize((size, size), Image.Resampling.BICUBIC).save(
            folder / f"{i:04d}.png")


def demo_root() -> Path:
    """Write (once) and return ``<cache>/image_digits_v<VERSION>``, an ImageFolder of 10 classes.

    Written to a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    return cached_folder(f"image_digits_v{VERSION}_{SIZE}", lambda tmp: write_digits(tmp / "digits")) / "digits"
