"""Maskers: which tokens the context encoder sees and which ones are predicted.

Maskers are components: found through the ``jepa_core.maskers`` entry-point group (the
built-ins through this package's own entry points) and chosen by ``mask.name``.
"""

from __future__ import annotations

from typing import Any

from ..ops.masking import MaskSet
from .base import Masker
from .bev import BevConfig, BevMasker
from .multiblock import MultiBlockConfig, MultiBlockMasker
from .random_subset import RandomSubsetConfig, RandomSubsetMasker
from .temporal import TemporalConfig, TemporalMasker

__all__ = ["BevConfig", "BevMasker", "Masker", "MaskSet", "MultiBlockConfig", "MultiBlockMasker",
           "RandomSubsetConfig", "RandomSubsetMasker", "TemporalConfig", "TemporalMasker",
           "check_masks_fit", "create_masker", "list_maskers"]


def list_maskers() -> dict[str, str]:
    """Registered masker names mapped to where each comes from."""
    from ..registry import get_registry

    return get_registry("masker").list()


def create_masker(cfg: Any = None, **fields: Any) -> Masker:
    """The masker named by a ``mask`` section, configured from it.

    Args:
        cfg: the run config's ``mask`` section (a component config), a mapping
            ``{name: ..., <fields>}``, or a masker name; ``None`` means the default.
        fields: more fields of the masker's config (with a name or a mapping).

    Raises:
        jepa_core.config.ConfigError: an unknown masker (naming the registered ones,
            or saying its plugin failed to load) or a field it does not have.

    Examples:
        >>> type(create_masker("temporal", frames=2)).__name__
        'TemporalMasker'
        >>> create_masker({"name": "random_subset", "target_ratio": 0.3}).target_ratio
        0.3
    """
    from ..config import ComponentConfig, component_config
    from ..registry import get_registry

    if isinstance(cfg, str):
        cfg = {"name": cfg}
    if not isinstance(cfg, ComponentConfig) or fields:
        data = {} if cfg is None else cfg
        if isinstance(data, ComponentConfig):
            from ..config import to_dict

            data = to_dict(data)
        cfg = component_config("mask", {**data, **fields})
    return get_registry("masker").get(cfg.name).from_config(cfg)


def check_masks_fit(cfg: Any, grid: tuple[int, ...], source: str, fix: str) -> None:
    """Raise one clear error when the ``mask`` section's masker cannot draw on ``grid``.

    A plugin calls it when a run starts, so that the message names the plugin's options
    that made the grid, not only the masker's own limit.

    Args:
        cfg: the run config's ``mask`` section.
        grid: the token grid the plugin's options give.
        source: what made the grid, e.g. ``"clips of options.frames_per_clip=8 frames"``.
        fix: what to change, e.g. ``"use more frames or pixels"``.

    Raises:
        jepa_core.modality.DataError: ``"{source} make a A x B token grid, too small for
            the NAME masks (the masker's reason); {fix}"``.
    """
    from ..modality import DataError
    from ..tokens import TokenLayout

    masker = create_masker(cfg)
    try:
        masker.check(TokenLayout(tuple(grid)))
    except ValueError as e:
        name = cfg if isinstance(cfg, str) else cfg.get("name") if isinstance(cfg, dict) \
            else getattr(cfg, "name", type(masker).__name__)
        shape = " x ".join(map(str, grid))
        raise DataError(f"{source} make a {shape} token grid, too small for the {name} masks "
                        f"({e}); {fix}") from None
