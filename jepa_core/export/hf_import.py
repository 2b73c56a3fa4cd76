"""A transformers I-JEPA checkpoint folder as the encoder's initialization or a frozen teacher.

``model.init_hf=DIR`` loads the checkpoint into the context encoder before training
(the EMA teacher starts as its copy); ``target.kind=frozen`` with ``target.frozen_hf=DIR``
makes it the frozen teacher (SALT with a teacher from elsewhere), which may be wider
and deeper than the student but must cut the image into the same patches. The folder is
read offline: ``config.json`` (model_type ``ijepa``) and safetensors weights, never a
pickle. Anything that does not fit is refused with a :class:`~jepa_core.config.ConfigError`
naming the folder and the mismatch: another model type, patch size, image size, width,
depth, heads, MLP width, activation, and missing or unknown tensors (listed).

The checkpoint's position embeddings replace the encoder's sin-cos table (they are I-JEPA's
own sin-cos, in its channel order, or whatever the checkpoint learned), and its
``layer_norm_eps`` that of the encoder's LayerNorms. Neither is part of a run's
checkpoint, so every rebuild of the run (``embed``, ``probe``, ``--resume``,
``export``) reads it from the folder again: keep the folder where the config says.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path

from torch import Tensor, nn

from ..config import ConfigError, ModelConfig
from ..models import Encoder
from . import require_transformers
from .ijepa import IGNORED_PREFIXES, ijepa_names, ijepa_to_encoder, patch_conv


def read_ijepa(folder: str | Path, key: str) -> tuple[dict, dict[str, Tensor]]:
    """The full ``IJepaConfig`` fields and the encoder tensors of a checkpoint folder.

    Args:
        key: the config key that named the folder, for messages (``model.init_hf``).

    Raises:
        ConfigError: not a folder, not an I-JEPA model, no safetensors weights, or
            tensors missing / unknown (listed).
    """
    require_transformers(key)
    folder = Path(folder).expanduser()
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ConfigError(f"{key}={folder}: no config.json there; expected a transformers I-JEPA model "
                          "folder (save_pretrained of an IJepaModel, or a downloaded facebook/ijepa_* snapshot)")
    try:
        raw = json.loads(config_file.read_text())
    except ValueError as e:
        raise ConfigError(f"{config_file}: not valid JSON ({e})") from None
    if raw.get("model_type") != "ijepa":
        raise ConfigError(f"{key}={folder} is not an I-JEPA model: {config_file} has model_type "
                          f"{raw.get('model_type')!r}, expected 'ijepa'")
    from transformers import IJepaConfig

    fields = IJepaConfig.from_pretrained(folder).to_dict()
    state = _read_weights(folder, key)
    state = {current_name(k.removeprefix("ijepa.")): v for k, v in state.items()}
    expected = ijepa_names(fields["num_hidden_layers"], fields["qkv_bias"])
    missing = sorted(expected - set(state))
    extra = sorted(k for k in set(state) - expected if not k.startswith(IGNORED_PREFIXES))
    if missing or extra:
        raise ConfigError(f"{key}={folder}: the checkpoint's tensors do not match its config.json "
                          f"({fields['num_hidden_layers']} layers): missing {missing or 'none'}; "
                          f"unknown {extra or 'none'}")
    return fields, {k: v for k, v in state.items() if k in expected}


#: The names ``save_pretrained`` writes (and Hub checkpoints use) -> IJepaModel's module names.
LEGACY_NAMES = ((r"^encoder\.layer\.(\d+)\.", r"layers.\1."), (r"attention\.attention\.query", "attention.q_proj"),
                (r"attention\.attention\.key", "attention.k_proj"), (r"attention\.attention\.value", "attention.v_proj"),
                (r"attention\.output\.dense", "attention.o_proj"), (r"intermediate\.dense", "mlp.fc1"),
                (r"(?<!attention\.)output\.dense", "mlp.fc2"))


def current_name(name: str) -> str:
    """A tensor name as transformers' ``IJepaModel`` modules call it (legacy names renamed).

    Examples:
        >>> current_name("encoder.layer.3.attention.attention.query.weight")
        'layers.3.attention.q_proj.weight'
        >>> current_name("encoder.layer.0.output.dense.bias")
        'layers.0.mlp.fc2.bias'
    """
    for pattern, repl in LEGACY_NAMES:
        name = re.sub(pattern, repl, name)
    return name


def _read_weights(folder: Path, key: str) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    single = folder / "model.safetensors"
    index = folder / "model.safetensors.index.json"
    try:
        if single.is_file():
            return load_file(single)
        if index.is_file():
            shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
            return {k: v for shard in shards for k, v in load_file(folder / shard).items()}
    except (OSError, ValueError, KeyError, SafetensorError) as e:
        raise ConfigError(f"{key}={folder}: its weights cannot be read ({type(e).__name__}: {e})") from None
    pickled = [p.name for p in folder.glob("*.bin")]
    raise ConfigError(f"{key}={folder}: no model.safetensors" + (
        f" (only {', '.join(pickled)}: pickled weights are never loaded; convert them with "
        "save_pretrained(..., safe_serialization=True))" if pickled else ""))


def _check(key: str, folder: str, what: str, theirs, ours, hint: str) -> None:
    if theirs != ours:
        raise ConfigError(f"{key}={folder}: the checkpoint's {what} is {theirs}, the run's is {ours} ({hint})")


def _check_patches(key: str, folder: str, fields: dict, encoder_or_tokenizer) -> None:
    conv = getattr(encoder_or_tokenizer, "proj", None)
    if not isinstance(conv, nn.Conv2d):
        raise ConfigError(f"{key}: an I-JEPA checkpoint initializes an image encoder (a ViT patch "
                          f"tokenizer); this run's tokenizer is {type(encoder_or_tokenizer).__name__}")
    patch = fields["patch_size"] if isinstance(fields["patch_size"], int) else fields["patch_size"][0]
    _check(key, folder, "patch size", patch, conv.kernel_size[0], "set options.patch_size or a preset to match")
    size = fields["image_size"] if isinstance(fields["image_size"], int) else fields["image_size"][0]
    grid = encoder_or_tokenizer.layout.grid
    _check(key, folder, "token grid (image_size / patch_size)", (size // patch, size // patch), tuple(grid),
           f"set options.image_size={size}")
    if fields["hidden_act"] != "gelu":
        raise ConfigError(f"{key}={folder}: hidden_act {fields['hidden_act']!r}; this encoder's MLP uses "
                          "exact GELU ('gelu')")


def _load(encoder: Encoder, fields: dict, state: dict[str, Tensor], key: str, folder: str) -> None:
    ours, positions = ijepa_to_encoder(state, fields["num_hidden_layers"])
    mine = encoder.state_dict()
    wrong = [f"{k} {tuple(v.shape)} (the encoder's: {tuple(mine[k].shape)})" for k, v in ours.items()
             if k in mine and v.shape != mine[k].shape]
    if wrong:
        raise ConfigError(f"{key}={folder}: tensors whose shapes do not fit the encoder: {', '.join(wrong[:6])}"
                          + (f" and {len(wrong) - 6} more" if len(wrong) > 6 else ""))
    result = encoder.load_state_dict(ours, strict=False)
    missing = [k for k in result.missing_keys if k != "registers"]
    if missing or result.unexpected_keys:
        raise ConfigError(f"{key}={folder}: tensors that do not fit the encoder: missing {missing}, "
                          f"unknown {result.unexpected_keys}")
    _check(key, folder, "position table", tuple(positions.shape), tuple(encoder.pos.shape), "grid x width")
    encoder.pos = positions.detach().to(encoder.pos.dtype).clone()
    for m in encoder.modules():  # like the positions, set again whenever the run is rebuilt
        if isinstance(m, nn.LayerNorm):
            m.eps = fields["layer_norm_eps"]


def init_encoder_from_hf(encoder: Encoder, folder: str, key: str = "model.init_hf") -> None:
    """Copy an I-JEPA checkpoint into ``encoder`` (same sizes; register tokens keep their init).

    The encoder's LayerNorms take the checkpoint's ``layer_norm_eps``.

    Raises:
        ConfigError: the folder is not an I-JEPA model or its sizes differ from the encoder's.
    """
    fields, state = read_ijepa(folder, key)
    _check_patches(key, folder, fields, encoder.tokenizer)
    block = encoder.transformer.blocks[0]
    for what, theirs, ours in (("width (hidden_size)", fields["hidden_size"], encoder.dim),
                               ("depth (num_hidden_layers)", fields["num_hidden_layers"], len(encoder.transformer.blocks)),
                               ("heads (num_attention_heads)", fields["num_attention_heads"], block.attn.heads),
                               ("MLP width (intermediate_size)", fields["intermediate_size"], block.mlp[0].out_features)):
        _check(key, folder, what, theirs, ours, "set model.dim/depth/heads/mlp_ratio or options.preset to match")
    if not isinstance(encoder.input_proj, nn.Identity):
        raise ConfigError(f"{key}: this encoder projects its tokens to model.dim; an I-JEPA checkpoint has none")
    _load(encoder, fields, state, key, folder)


def teacher_from_hf(tokenizer: nn.Module, folder: str, model: ModelConfig,
                    key: str = "target.frozen_hf") -> Encoder:
    """A frozen teacher encoder from an I-JEPA checkpoint, on the student's patch grid.

    The teacher has the checkpoint's own sizes (it may be wider than the student: the
    predictor then predicts its width) and a copy of the student's tokenizer with the
    checkpoint's patch convolution; its LayerNorms take the checkpoint's ``layer_norm_eps``.

    Raises:
        ConfigError: not an I-JEPA model, or its patches / grid differ from the run's.
    """
    fields, state = read_ijepa(folder, key)
    _check_patches(key, folder, fields, tokenizer)
    hidden, inter = fields["hidden_size"], fields["intermediate_size"]
    ratio = inter / hidden
    if int(hidden * ratio) != inter:
        ratio = (inter + 0.5) / hidden
    cfg = dataclasses.replace(model, dim=hidden, depth=fields["num_hidden_layers"],
                              heads=fields["num_attention_heads"], mlp_ratio=ratio, num_registers=0,
                              attention_window=0, dropout=0.0, init_hf=None)
    tok = copy.deepcopy(tokenizer)
    conv = tok.proj
    tok.proj = nn.Conv2d(conv.in_channels, hidden, kernel_size=conv.kernel_size, stride=conv.stride)
    tok.dim = hidden
    teacher = Encoder(tok, cfg)
    _load(teacher, fields, state, key, folder)
    return teacher


__all__ = ["init_encoder_from_hf", "read_ijepa", "teacher_from_hf"]
