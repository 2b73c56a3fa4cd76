"""An image encoder as transformers' ``IJepaModel`` (model_type ``ijepa``), and back.

transformers' I-JEPA is a plain pre-LN ViT: a ``p x p`` stride-``p`` convolution over
normalized pixels, a position-embedding parameter ``[1, N, D]`` added to the patches,
blocks of ``x + attn(LN(x))``, ``x + fc2(act(fc1(LN(x))))`` with separate q/k/v
projections, and a final LayerNorm. That is this package's :class:`~jepa_core.Encoder`
over a patch tokenizer, so the weights map one to one: ``qkv`` splits into
``q_proj``/``k_proj``/``v_proj``, the sin-cos table goes into ``position_embeddings``
(transformers interpolates it only when asked, ``interpolate_pos_encoding=True``), and
``layer_norm_eps`` is that of PyTorch's LayerNorm, ``hidden_act`` exact GELU.

What does not map: register tokens (I-JEPA has none), attention windows, an input
projection between tokenizer and transformer, coordinates instead of a grid, a
non-square grid. :func:`why_not_ijepa` says which; the export then falls back to the
package's own format (:mod:`.hf_model`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..models import Encoder

#: transformers names of the tensors of one block, and ours (``transformer.blocks.{i}.``).
_BLOCK_NAMES: dict[str, str] = {
    "layernorm_before.weight": "norm1.weight", "layernorm_before.bias": "norm1.bias",
    "attention.o_proj.weight": "attn.proj.weight", "attention.o_proj.bias": "attn.proj.bias",
    "layernorm_after.weight": "norm2.weight", "layernorm_after.bias": "norm2.bias",
    "mlp.fc1.weight": "mlp.0.weight", "mlp.fc1.bias": "mlp.0.bias",
    "mlp.fc2.weight": "mlp.3.weight", "mlp.fc2.bias": "mlp.3.bias",
}
_QKV = ("q_proj", "k_proj", "v_proj")
_TOP_NAMES: dict[str, str] = {
    "embeddings.patch_embeddings.projection.weight": "tokenizer.proj.weight",
    "embeddings.patch_embeddings.projection.bias": "tokenizer.proj.bias",
    "layernorm.weight": "transformer.norm.weight", "layernorm.bias": "transformer.norm.bias",
}
POSITIONS = "embeddings.position_embeddings"
#: Heads a checkpoint may carry beside the encoder; they are not part of it and are ignored.
IGNORED_PREFIXES = ("pooler.", "classifier.", "embeddings.mask_token")


def patch_conv(encoder: Encoder) -> nn.Conv2d | None:
    """The tokenizer's patch convolution (``tokenizer.proj``), or None for another tokenizer."""
    proj = getattr(encoder.tokenizer, "proj", None)
    return proj if isinstance(proj, nn.Conv2d) else None


def why_not_ijepa(encoder: Encoder) -> str | None:
    """Why ``encoder`` has no exact ``IJepaModel`` equivalent; None when it has one."""
    conv = patch_conv(encoder)
    if conv is None or conv.in_channels != 3 or conv.kernel_size != conv.stride \
            or conv.kernel_size[0] != conv.kernel_size[1] or conv.padding != (0, 0):
        return f"its tokenizer ({type(encoder.tokenizer).__name__}) is not a square ViT patch convolution"
    if encoder.layout is None or len(encoder.layout.grid) != 2 or encoder.layout.grid[0] != encoder.layout.grid[1]:
        return "its tokens are not on a square 2-D grid"
    if encoder.registers.shape[1]:
        return f"it has {encoder.registers.shape[1]} register tokens (model.num_registers); I-JEPA has none"
    if encoder.attention_window:
        return f"its attention is local (model.attention_window={encoder.attention_window}); I-JEPA's is global"
    if not isinstance(encoder.input_proj, nn.Identity):
        return "it projects the tokenizer's width to model.dim; I-JEPA's patch embedding has the model's width"
    if any(b.modulation is not None for b in encoder.transformer.blocks):
        return "its blocks are condition-modulated (AdaLN)"
    return None


def ijepa_config(encoder: Encoder, image_size: int, dropout: float = 0.0) -> dict[str, Any]:
    """The ``IJepaConfig`` fields of an encoder that maps (see :func:`why_not_ijepa`)."""
    block = encoder.transformer.blocks[0]
    conv = patch_conv(encoder)
    return {"hidden_size": encoder.dim, "num_hidden_layers": len(encoder.transformer.blocks),
            "num_attention_heads": block.attn.heads, "intermediate_size": block.mlp[0].out_features,
            "hidden_act": "gelu", "layer_norm_eps": block.norm1.eps, "image_size": image_size,
            "patch_size": conv.kernel_size[0], "num_channels": 3, "qkv_bias": True,
            "hidden_dropout_prob": dropout, "attention_probs_dropout_prob": 0.0}


def encoder_to_ijepa(encoder: Encoder) -> dict[str, Tensor]:
    """The encoder's weights under transformers' ``IJepaModel`` names (float32, contiguous)."""
    ours = encoder.state_dict()
    out = {hf: ours[mine] for hf, mine in _TOP_NAMES.items()}
    out[POSITIONS] = encoder.pos.detach()[None]
    for i in range(len(encoder.transformer.blocks)):
        pre = f"transformer.blocks.{i}."
        for hf, mine in _BLOCK_NAMES.items():
            out[f"layers.{i}.{hf}"] = ours[pre + mine]
        for part, w, b in zip(_QKV, ours[pre + "attn.qkv.weight"].chunk(3, 0), ours[pre + "attn.qkv.bias"].chunk(3, 0)):
            out[f"layers.{i}.attention.{part}.weight"] = w
            out[f"layers.{i}.attention.{part}.bias"] = b
    return {k: v.detach().float().contiguous().clone() for k, v in out.items()}


def ijepa_names(depth: int, qkv_bias: bool = True) -> set[str]:
    """The tensor names an ``IJepaModel`` of ``depth`` layers holds (without its heads)."""
    names = set(_TOP_NAMES) | {POSITIONS}
    for i in range(depth):
        names |= {f"layers.{i}.{hf}" for hf in _BLOCK_NAMES}
        names |= {f"layers.{i}.attention.{p}.{t}" for p in _QKV
                  for t in (("weight", "bias") if qkv_bias else ("weight",))}
    return names


def ijepa_to_encoder(state: dict[str, Tensor], depth: int) -> tuple[dict[str, Tensor], Tensor]:
    """An ``IJepaModel`` state dict as this encoder's (``strict`` loadable) and its positions.

    A checkpoint without q/k/v biases (``qkv_bias: false``) gets zero biases, which
    computes the same. Register tokens, if the encoder has any, are not in it.

    Returns:
        ``(encoder state dict without registers, positions [N, D])``.
    """
    ours = {mine: state[hf] for hf, mine in _TOP_NAMES.items()}
    for i in range(depth):
        pre = f"transformer.blocks.{i}."
        for hf, mine in _BLOCK_NAMES.items():
            ours[pre + mine] = state[f"layers.{i}.{hf}"]
        ws = [state[f"layers.{i}.attention.{p}.weight"] for p in _QKV]
        bs = [state.get(f"layers.{i}.attention.{p}.bias", torch.zeros(w.shape[0], dtype=w.dtype))
              for p, w in zip(_QKV, ws)]
        ours[pre + "attn.qkv.weight"] = torch.cat(ws, 0)
        ours[pre + "attn.qkv.bias"] = torch.cat(bs, 0)
    return ours, state[POSITIONS].reshape(-1, state[POSITIONS].shape[-1])
