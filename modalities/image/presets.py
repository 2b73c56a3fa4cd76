"""ViT presets for images: the core's table (:mod:`jepa_core.presets`), by name.

The table lives in the core (``model.preset``) because a ViT size is not image-specific;
this module keeps the names other plugins import (:func:`preset`, :data:`VIT_PRESETS`).
"""

from __future__ import annotations

from typing import Any

from jepa_core.presets import PATCH_SIZES, VIT_PRESETS, VIT_SIZES, vit_preset

__all__ = ["PATCH_SIZES", "VIT_PRESETS", "VIT_SIZES", "preset"]


def preset(name: str) -> dict[str, Any]:
    """The sizes of preset ``name`` (``{"patch_size": p, "model": {...}}``).

    Raises:
        ValueError: an unknown name, listing the known ones.

    Examples:
        >>> preset("vit_base_16")["model"]["dim"], preset("vit_huge_14")["patch_size"]
        (768, 14)
    """
    return vit_preset(name, key="options.preset")
