"""ViT size presets (``model.preset``): the encoder and predictor sizes I-JEPA used.

Encoder widths, depths and heads are those of the ViT family (I-JEPA trains ViT-H/14,
ViT-H/16 at 448 px and ViT-G/16). I-JEPA's predictor is 384 wide and 12 deep for ViT-H
and ViT-G, with as many heads as the encoder; the same predictor is used here for ViT-B
and ViT-L, and a smaller one (half the encoder depth, at most the encoder's width) for
the tiny and small models meant for CPUs.

A preset name also carries a patch size (``vit_base_16``: 16 px patches); the core only
sets the ``model`` section from it, and a modality with patches (images, video) reads
the patch size with :func:`vit_preset`. Torch-free, so reading a config stays light.
"""

from __future__ import annotations

from typing import Any

#: size -> (dim, depth, heads, predictor_dim, predictor_depth).
VIT_SIZES: dict[str, tuple[int, int, int, int, int]] = {
    "tiny": (192, 12, 3, 192, 6),
    "small": (384, 12, 6, 384, 6),
    "base": (768, 12, 12, 384, 12),
    "large": (1024, 24, 16, 384, 12),
    "huge": (1280, 32, 16, 384, 12),
    "giant": (1408, 40, 16, 384, 12),
}

#: The patch sizes each size comes in (``vit_base_16``, ``vit_huge_14``, ...).
PATCH_SIZES = (14, 16)

#: Every preset name -> its ``model`` section fields and patch size.
VIT_PRESETS: dict[str, dict[str, Any]] = {
    f"vit_{size}_{patch}": {"patch_size": patch, "model": {
        "dim": dim, "depth": depth, "heads": heads, "mlp_ratio": 4.0 if size != "giant" else 48 / 11,
        "predictor_dim": pdim, "predictor_depth": pdepth, "predictor_heads": heads}}
    for size, (dim, depth, heads, pdim, pdepth) in VIT_SIZES.items() for patch in PATCH_SIZES}


def vit_preset(name: str, key: str = "model.preset") -> dict[str, Any]:
    """The sizes of preset ``name``: ``{"patch_size": p, "model": {field: value}}``.

    Args:
        key: the config key the name came from, for the error message.

    Raises:
        ValueError: an unknown name, listing the known ones.

    Examples:
        >>> vit_preset("vit_base_16")["model"]["dim"], vit_preset("vit_huge_14")["patch_size"]
        (768, 14)
    """
    if name not in VIT_PRESETS:
        raise ValueError(f"{key}={name!r} is not a ViT preset; known: {sorted(VIT_PRESETS)}")
    return VIT_PRESETS[name]


def apply_preset(cfg: Any, name: str, key: str = "model.preset") -> int:
    """Set a run config's encoder and predictor sizes from preset ``name`` (they win over
    the sections' own): ``dim``/``depth``/``heads`` in ``model``, the predictor's in
    ``predictor`` (the table's ``predictor_dim`` is ``predictor.dim``).

    Returns:
        The preset's patch size (the modality's tokenizer takes it).
    """
    from .config import MOVED_MODEL_KEYS

    sizes = vit_preset(name, key)
    for field, value in sizes["model"].items():
        section, field = MOVED_MODEL_KEYS.get(field, ("model", field))
        setattr(getattr(cfg, section), field, value)
    return sizes["patch_size"]


def apply_model_preset(cfg: Any) -> None:
    """Apply ``model.preset``, when set, to the run config (see :func:`apply_preset`)."""
    if cfg.model.preset:
        apply_preset(cfg, cfg.model.preset)


def preset_name(option: str | None, model: str | None) -> str | None:
    """The preset named by a plugin's ``options.preset`` or by ``model.preset`` (they must agree).

    Raises:
        ValueError: both are set, to different presets.
    """
    if option and model and option != model:
        raise ValueError(f"options.preset={option!r} and model.preset={model!r} disagree; set "
                         "model.preset alone (options.preset is its older spelling)")
    return model or option
