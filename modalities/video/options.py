"""The ``options`` config section of the video plugin: frames, clips, tubelets, augmentation."""

from __future__ import annotations

from dataclasses import dataclass, field

from modalities.image.options import ARRAY_SUFFIXES, IMAGE_SUFFIXES, check_crop_and_colour

#: Suffixes decoded through PyAV (the ``video`` extra).
VIDEO_SUFFIXES = (".mp4", ".avi", ".webm", ".mkv", ".mov", ".m4v")

__all__ = ["ARRAY_SUFFIXES", "IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "VideoOptions"]


@dataclass
class VideoOptions:
    """How clips are read, sampled, cut into tubelets and augmented.

    The defaults are sized for a 2-core CPU: 8 frames of 32 px cut into 2 x 8 x 8
    tubelets, a 4 x 4 x 4 token grid. V-JEPA's setting is ``frames_per_clip: 16``,
    ``frame_step: 4``, ``image_size: 224``, ``tubelet_size: 2`` and a preset such as
    ``vit_large_16`` (8 x 14 x 14 tokens).

    Args:
        image_size: every frame is resized (shorter side) and centre-cropped to
            ``image_size x image_size`` when it is decoded.
        patch_size: pixels per tubelet side; must divide ``image_size``. Set by ``preset``.
        tubelet_size: frames per tubelet; must divide ``frames_per_clip``.
        preset: a ViT size from :data:`modalities.image.presets.VIT_PRESETS`; it sets
            ``patch_size`` and the ``model`` section's sizes, as for images.
        frames_per_clip: frames the encoder sees per clip (V-JEPA: 16).
        frame_step: take every ``frame_step``-th frame of the file (V-JEPA: 4).
        crop_window: sampled frames one sample holds; training takes a random
            ``frames_per_clip`` crop of them (keyed by seed, step and sample id),
            embedding and probing the centre one. ``null``: ``2 * frames_per_clip``.
        clips_per_video: windows per file, evenly spaced over it; each is its own sample
            (a file shorter than one window gives one).
        short: a clip with fewer sampled frames than ``frames_per_clip``: ``pad``
            (repeat the last frame and mark the tubelets past the real frames invalid)
            or ``loop`` (play the clip again from its start). Nothing is dropped.
        crop_scale, crop_ratio, hflip: V-JEPA's random resized crop, one box per clip
            for all its frames (area fraction, aspect range; ``[1, 1]`` turns it off);
            ``hflip`` mirrors half the clips (off: it would swap left and right motion).
        mean, std: per-channel normalization of pixel values in ``[0, 1]`` (ImageNet's).
        on_bad_video: ``stop`` (a DataError naming the file) or ``skip`` (warn, leave out).
        verify: decode every video file once while listing (counts its frames, finds
            truncated files and frame-size changes before training).
        raw_size: side of the downsampled mean frame used as the probe's raw baseline.
    """

    image_size: int = 32
    patch_size: int = 8
    tubelet_size: int = 2
    preset: str | None = None
    frames_per_clip: int = 8
    frame_step: int = 1
    crop_window: int | None = None
    clips_per_video: int = 1
    short: str = "pad"
    crop_scale: list[float] = field(default_factory=lambda: [0.3, 1.0])
    crop_ratio: list[float] = field(default_factory=lambda: [0.75, 1.35])
    hflip: bool = False
    mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])
    on_bad_video: str = "stop"
    verify: bool = True
    raw_size: int = 8

    @property
    def window(self) -> int:
        """Sampled frames per sample (``crop_window`` or twice ``frames_per_clip``)."""
        return self.crop_window if self.crop_window is not None else 2 * self.frames_per_clip

    @property
    def grid(self) -> tuple[int, int, int]:
        """The token grid ``(T', H', W')``."""
        side = self.image_size // self.patch_size
        return self.frames_per_clip // self.tubelet_size, side, side

    def validate(self) -> None:
        """Raise ``ValueError`` for sizes or ranges that cannot work."""
        for name in ("image_size", "patch_size", "tubelet_size", "frames_per_clip", "frame_step",
                     "clips_per_video"):
            if getattr(self, name) < 1:
                raise ValueError(f"options.{name} must be >= 1, got {getattr(self, name)}")
        if self.image_size % self.patch_size:
            raise ValueError(f"options.patch_size={self.patch_size} must divide options.image_size="
                             f"{self.image_size}")
        if self.frames_per_clip % self.tubelet_size:
            raise ValueError(f"options.tubelet_size={self.tubelet_size} must divide "
                             f"options.frames_per_clip={self.frames_per_clip}")
        if self.window < self.frames_per_clip:
            raise ValueError(f"options.crop_window={self.crop_window} must be >= frames_per_clip="
                             f"{self.frames_per_clip}")
        if self.short not in ("pad", "loop"):
            raise ValueError(f"options.short must be 'pad' or 'loop', got {self.short!r}")
        check_crop_and_colour(self)
        if self.on_bad_video not in ("stop", "skip"):
            raise ValueError(f"options.on_bad_video must be 'stop' or 'skip', got {self.on_bad_video!r}")
        if not 1 <= self.raw_size <= self.image_size:
            raise ValueError(f"options.raw_size must be in [1, image_size], got {self.raw_size}")
