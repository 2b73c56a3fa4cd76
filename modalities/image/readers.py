"""Listing image files and decoding them: Pillow formats and ``.npy``/``.npz`` arrays.

Files are listed (and, cheaply, checked) up front; pixels are decoded only when a
sample is read, in the DataLoader workers, so a folder of 100k images is never held in
memory. Every image becomes RGB ``uint8``:

- grayscale (``L``, ``1``) is repeated over the three channels; palette images are
  expanded through their palette;
- images with transparency (``RGBA``, ``LA``, ``PA``, a palette with a transparent
  colour) are composited over white;
- 16-bit (``I;16``) and 32-bit integer (``I``) grayscale is scaled from ``[0, 65535]``,
  float (``F``) from ``[0, 1]``; CMYK and YCbCr JPEGs are converted by Pillow;
- arrays are ``[N, H, W, C]`` (or ``[N, H, W]``) ``uint8`` with ``C`` in 1, 3, 4 (the
  fourth channel is dropped); an ``.npz`` keeps them in ``images`` (or ``x``, or its only
  array), and may hold their labels beside them (see :mod:`.labels`).
"""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from jepa_core.modality import DataError

from .options import ARRAY_SUFFIXES, IMAGE_SUFFIXES


@dataclass(frozen=True)
class ImageItem:
    """One sample: an image file, or image ``index`` of an array file (``-1``: a whole file)."""

    path: str
    index: int = -1

    @property
    def name(self) -> str:
        return self.path if self.index < 0 else f"{self.path}[{self.index}]"


class BadImageError(DataError):
    """A file that is not a readable image (names the file and what is wrong)."""


def find_files(root: str | Path) -> list[Path]:
    """Image and array files under ``root`` (recursively, sorted; hidden files and folders
    skipped), or ``root`` itself.

    Raises:
        DataError: a missing path, a file of an unknown type, or a folder without images.
    """
    root = Path(root)
    suffixes = IMAGE_SUFFIXES + ARRAY_SUFFIXES
    if root.is_file():
        if root.suffix.lower() not in suffixes:
            raise DataError(f"{root}: not an image or array file (expected one of {', '.join(suffixes)})")
        return [root]
    if not root.is_dir():
        raise DataError(f"{root}: no such file or folder")
    files = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # hidden folders (.ipynb_checkpoints)
        files += [Path(folder) / f for f in names if Path(f).suffix.lower() in suffixes and not f.startswith(".")]
    files.sort()
    if not files:
        raise DataError(f"{root}: no images found (looked recursively for {', '.join(suffixes)})")
    return files


def _check_image(path: Path, min_side: int, verify: bool) -> None:
    """Open the header (and with ``verify`` check the bytes) of one image file."""
    if path.stat().st_size == 0:
        raise BadImageError(f"{path}: empty file (0 bytes), not an image")
    try:
        with Image.open(path) as img:
            size, fmt = img.size, img.format
            if verify:
                img.verify()
    except UnidentifiedImageError:
        raise BadImageError(f"{path}: not an image Pillow can read (the extension says "
                            f"{path.suffix.lower()}, the content is something else)") from None
    except (OSError, SyntaxError, ValueError) as e:  # Pillow's truncated/corrupt signals
        raise BadImageError(f"{path}: truncated or corrupt {path.suffix.lower()} image ({e})") from None
    if verify and fmt == "JPEG":
        with open(path, "rb") as f:
            f.seek(-2, os.SEEK_END)
            if f.read(2) != b"\xff\xd9":
                raise BadImageError(f"{path}: truncated JPEG (no end-of-image marker)")
    if min(size) < min_side:
        raise BadImageError(f"{path}: {size[0]}x{size[1]} pixels is smaller than one "
                            f"{min_side}x{min_side} patch (options.patch_size)")


def _array_items(path: Path, min_side: int) -> list[ImageItem]:
    """One item per image of an ``[N, H, W, C]`` uint8 array file."""
    arr = _open_array(path)
    if arr.dtype != np.uint8:
        raise BadImageError(f"{path}: image arrays must be uint8, got {arr.dtype}")
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
        raise BadImageError(f"{path}: expected an array [N, H, W, C] with C in 1, 3, 4, got "
                            f"shape {tuple(arr.shape)}")
    if arr.shape[0] == 0:
        raise BadImageError(f"{path}: the array holds no images (N = 0)")
    if min(arr.shape[1:3]) < min_side:
        raise BadImageError(f"{path}: {arr.shape[2]}x{arr.shape[1]} images are smaller than one "
                            f"{min_side}x{min_side} patch (options.patch_size)")
    return [ImageItem(str(path), i) for i in range(arr.shape[0])]


def npz_image_key(files: list[str], path: Path | str) -> str:
    """The array of an ``.npz`` that holds its images: ``images``, else ``x``, else the only one.

    Other arrays (``labels``, ``y``) may sit beside it, for probing.
    """
    for key in ("images", "x"):
        if key in files:
            return key
    if len(files) == 1:
        return files[0]
    raise BadImageError(f"{path}: an .npz of images needs one array, or one named 'images' (or 'x'), "
                        f"found {files}")


def _open_array(path: Path) -> np.ndarray:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, mmap_mode="r", allow_pickle=False)
        with np.load(path, allow_pickle=False) as z:
            return z[npz_image_key(z.files, path)]
    except BadImageError:
        raise
    except (OSError, ValueError, EOFError) as e:
        raise BadImageError(f"{path}: not a readable {path.suffix} array ({e})") from None


def list_items(root: str | Path, min_side: int, verify: bool = True, on_bad: str = "stop",
               workers: int = 8, skipped: list[str] | None = None) -> list[ImageItem]:
    """Every sample under ``root``, checked up front (headers; bytes with ``verify``).

    Args:
        min_side: the smallest image side accepted (one patch).
        on_bad: ``stop`` raises on the first bad file (in listing order); ``skip`` leaves
            bad files out with one warning giving their count and the first few.
        skipped: a list that receives the message of each file left out (with ``skip``).

    Raises:
        DataError: a bad file (with ``stop``), or no readable image at all.
    """
    files = find_files(root)

    def check(path: Path) -> list[ImageItem] | BadImageError:
        try:
            if path.suffix.lower() in ARRAY_SUFFIXES:
                return _array_items(path, min_side)
            _check_image(path, min_side, verify)
            return [ImageItem(str(path))]
        except BadImageError as e:
            return e

    with ThreadPoolExecutor(max_workers=workers) as pool:  # I/O bound: threads overlap reads
        results = list(pool.map(check, files))
    bad = [r for r in results if isinstance(r, BadImageError)]
    if bad and on_bad == "stop":
        raise DataError(f"{bad[0]} (options.on_bad_image=skip leaves bad files out)")
    if bad:
        if skipped is not None:
            skipped += [str(b) for b in bad]
        shown = "; ".join(str(b) for b in bad[:3])
        warnings.warn(f"skipped {len(bad)} bad image file(s) of {len(files)}: {shown}"
                      + (" ..." if len(bad) > 3 else ""), stacklevel=2)
    items = [it for r in results if not isinstance(r, BadImageError) for it in r]
    if not items:
        raise DataError(f"{root}: no readable images (all {len(files)} files were bad)")
    return items


# -- decoding ------------------------------------------------------------------------------

def to_rgb(img: Image.Image) -> np.ndarray:
    """Any Pillow image as ``[H, W, 3]`` uint8 RGB (see the module docstring for the rules).

    Examples:
        >>> to_rgb(Image.new("LA", (2, 1), (0, 0))).tolist()  # transparent black: white
        [[[255, 255, 255], [255, 255, 255]]]
    """
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64) * (255.0 / 65535.0)
        return np.repeat(np.clip(np.rint(arr), 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64) * 255.0
        return np.repeat(np.clip(np.rint(arr), 0, 255).astype(np.uint8)[..., None], 3, axis=2)
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    elif mode == "PA":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def fit_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """Resize the shorter side to ``size`` (bicubic, antialiased) and centre-crop a square."""
    h, w = rgb.shape[:2]
    if (h, w) != (size, size):
        scale = size / min(h, w)
        nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
        img = Image.fromarray(rgb).resize((nw, nh), Image.Resampling.BICUBIC)
        left, top = (nw - size) // 2, (nh - size) // 2
        rgb = np.asarray(img.crop((left, top, left + size, top + size)))
    return rgb


class Decoder:
    """Decodes items to ``[size, size, 3]`` uint8; array files are opened once per process."""

    def __init__(self, size: int, on_bad: str = "stop") -> None:
        self.size = size
        self.on_bad = on_bad
        self._arrays: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict:  # workers reopen arrays themselves
        return {**self.__dict__, "_arrays": {}}

    def blank(self) -> np.ndarray:
        """The grey ``[size, size, 3]`` image that stands in for an undecodable one."""
        return np.full((self.size, self.size, 3), 128, dtype=np.uint8)

    def _array(self, path: str) -> np.ndarray:
        if path not in self._arrays:
            self._arrays[path] = _open_array(Path(path))
        return self._arrays[path]

    def __call__(self, item: ImageItem) -> np.ndarray:
        """The image; one that cannot be decoded raises (``stop``) or is grey (``skip``, warned)."""
        try:
            return self.decode(item)
        except BadImageError as e:
            if self.on_bad == "stop":
                raise
            warnings.warn(f"skipped {e}; a grey image stands in for it", stacklevel=2)
            return self.blank()

    def decode(self, item: ImageItem) -> np.ndarray:
        """The image as ``[size, size, 3]`` uint8.

        Raises:
            BadImageError: it cannot be decoded (the message names it).
        """
        try:
            if item.index >= 0:
                rgb = np.asarray(self._array(item.path)[item.index])
                if rgb.ndim == 2:
                    rgb = rgb[..., None]
                rgb = np.repeat(rgb, 3, axis=2) if rgb.shape[2] == 1 else rgb[..., :3]
            else:
                with Image.open(item.path) as img:
                    rgb = to_rgb(img)
        except (OSError, SyntaxError, ValueError) as e:
            hint = "; options.on_bad_image=skip replaces it by a grey image" if self.on_bad == "stop" else ""
            raise BadImageError(f"{item.name}: cannot decode the image ({e}){hint}") from None
        rgb = fit_square(rgb, self.size)
        return rgb if rgb.flags.writeable and rgb.flags.c_contiguous else np.array(rgb, order="C")
