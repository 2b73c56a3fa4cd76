"""The ``options`` config section of the image plugin: size, patches, preset, augmentation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Suffixes read as images (through Pillow) and as arrays of images (``[N, H, W, C]`` uint8).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
ARRAY_SUFFIXES = (".npy", ".npz")


def check_crop_and_colour(opts: Any) -> None:
    """Check the random-resized-crop ranges and the RGB normalization of image or video options.

    Raises:
        ValueError: ``crop_scale`` / ``crop_ratio`` not ``[low, high]`` with ``0 < low <=
            high`` (scale at most 1), or ``mean`` / ``std`` not 3 values with ``std > 0``.
    """
    for name in ("crop_scale", "crop_ratio"):
        lo_hi = getattr(opts, name)
        if len(lo_hi) != 2 or not 0 < lo_hi[0] <= lo_hi[1]:
            raise ValueError(f"options.{name} needs [low, high] with 0 < low <= high, got {lo_hi}")
    if opts.crop_scale[1] > 1:
        raise ValueError(f"options.crop_scale must lie in (0, 1], got {opts.crop_scale}")
    if len(opts.mean) != 3 or len(opts.std) != 3 or min(opts.std) <= 0:
        raise ValueError("options.mean and options.std need 3 values each (RGB), std > 0")


@dataclass
class ImageOptions:
    """How images are read, sized, cut into patches and augmented.

    The defaults are sized to pretrain on the digits demo in minutes on a 2-core CPU:
    32 px images cut into 4 px patches, an 8 x 8 token grid. I-JEPA's ImageNet setting is
    ``image_size: 224`` with a preset such as ``vit_huge_14`` (16 x 16 tokens).

    ``image_size`` may also be written ``data.image_size`` (``--set data.image_size=224``):
    the plugin declares it in ``data_options``, and the CLI moves it here.

    Args:
        image_size: every image is resized (shorter side) and centre-cropped to
            ``image_size x image_size`` when it is decoded. ``jepa embed`` and ``jepa
            probe`` use the run's, or another given with ``--set data.image_size=S``
            (a multiple of ``patch_size``): the encoder then resamples its training
            grid's sin-cos position table to the new grid (bicubic).
        patch_size: pixels per patch side; must divide ``image_size``. Set by ``preset``.
        preset: a ViT size from :data:`jepa_core.presets.VIT_PRESETS`
            (``vit_tiny_16`` ... ``vit_giant_14``); it sets ``patch_size`` and the
            ``model`` section's encoder and predictor sizes (overriding ``model.dim``,
            ``depth``, ``heads``, ``predictor_*`` and ``mlp_ratio``). ``null``: the
            ``model`` section as given. The older spelling of ``model.preset``, which
            does the same (give one, or both the same).
        crop_scale: random resized crop, range of the crop's area as a fraction of the
            image (I-JEPA: ``[0.3, 1.0]``); ``[1.0, 1.0]`` turns cropping off.
        crop_ratio: range of the crop's aspect ratio (width / height), drawn log-uniformly.
        hflip: flip half the training images horizontally (I-JEPA: off).
        mean, std: per-channel normalization of pixel values in ``[0, 1]`` (ImageNet's).
        on_bad_image: ``stop`` (a :class:`~jepa_core.modality.DataError` naming the file,
            before training where the listing finds it) or ``skip`` (leave the file out and
            warn, with a count).
        verify: check every file's bytes while listing (Pillow's ``verify()``: PNG chunk
            checksums, a JPEG's end marker), so a truncated or corrupt file is found before
            training. Reads each file once; turn off for very large folders on slow disks.
        raw_size: side of the downsampled pixel grid used as the probe's raw baseline.
    """

    image_size: int = 32
    patch_size: int = 4
    preset: str | None = None
    crop_scale: list[float] = field(default_factory=lambda: [0.3, 1.0])
    crop_ratio: list[float] = field(default_factory=lambda: [0.75, 4.0 / 3.0])
    hflip: bool = False
    mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])
    on_bad_image: str = "stop"
    verify: bool = True
    raw_size: int = 8

    @property
    def grid(self) -> tuple[int, int]:
        """The token grid ``(H', W')``."""
        side = self.image_size // self.patch_size
        return side, side

    def validate(self) -> None:
        """Raise ``ValueError`` for sizes or ranges that cannot work."""
        if self.image_size < 1 or self.patch_size < 1:
            raise ValueError(f"options.image_size and options.patch_size must be >= 1, got "
                             f"{self.image_size} and {self.patch_size}")
        if self.image_size % self.patch_size:
            raise ValueError(f"options.patch_size={self.patch_size} must divide options.image_size="
                             f"{self.image_size}")
        check_crop_and_colour(self)
        if self.on_bad_image not in ("stop", "skip"):
            raise ValueError(f"options.on_bad_image must be 'stop' or 'skip', got {self.on_bad_image!r}")
        if not 1 <= self.raw_size <= self.image_size:
            raise ValueError(f"options.raw_size must be in [1, image_size], got {self.raw_size}")
