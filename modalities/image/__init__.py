"""Images to ViT patch tokens (I-JEPA).

Readers for image folders (PNG, JPEG, WebP, BMP, TIFF through Pillow; ``.npy``/``.npz``
arrays), decoded lazily in DataLoader workers; I-JEPA's random resized crop on the
device, keyed by (seed, step, sample id); a conv patch tokenizer with ViT presets; the
digits demo; folder and CSV labels for probing.
"""

from .options import ImageOptions
from .plugin import ImageModality
from .presets import VIT_PRESETS
from .tokenizer import PatchTokenizer

__all__ = ["ImageModality", "ImageOptions", "PatchTokenizer", "VIT_PRESETS"]
