"""The JEPA encoder: a modality's tokenizer followed by a transformer over valid tokens."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelConfig
from ..modality import Tokenizer
from ..ops import gather_tokens
from ..tokens import TokenBatch
from .positions import sincos_positions
from .transformer import Transformer, init_weights
from .windows import window_mask


POOLINGS = ("mean", "registers", "concat")
"""``model.pooling``: how :meth:`Encoder.pooled_features` makes one vector per sample."""


class Encoder(nn.Module):
    """Tokenizer + sin-cos positions + register tokens + pre-LN transformer.

    The same surface for every modality: :meth:`tokenize` a raw batch, run
    :meth:`forward` on a :class:`TokenBatch` (optionally on a subset of its tokens, the
    context), or ask for :meth:`token_features` / :meth:`pooled_features` of a raw batch.
    Register tokens (T-JEPA's regularization tokens, ViT registers) are prepended to every
    sequence and never masked; they are dropped from the per-token output.

    With ``cfg.attention_window = r > 0`` each token attends only to the tokens within
    ``r`` grid steps of it (and to the registers, which attend to all): local features
    with local context, like a convolutional backbone's (see :mod:`.windows`).

    Args:
        tokenizer: the modality's tokenizer; its ``layout`` fixes the grid.
        cfg: model sizes.
    """

    def __init__(self, tokenizer: Tokenizer, cfg: ModelConfig) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.layout = tokenizer.layout
        self.dim = cfg.dim
        self.pooling = cfg.pooling
        if cfg.pooling not in POOLINGS:
            raise ValueError(f"model.pooling must be one of {POOLINGS}, got {cfg.pooling!r}")
        if cfg.pooling == "registers" and cfg.num_registers < 1:
            raise ValueError("model.pooling='registers' needs model.num_registers >= 1")
        if cfg.attention_window < 0:
            raise ValueError(f"model.attention_window must be >= 0 (0: global), got {cfg.attention_window}")
        self.attention_window = cfg.attention_window
        self.input_proj = nn.Identity() if tokenizer.dim == cfg.dim else nn.Linear(tokenizer.dim, cfg.dim)
        self.registers = nn.Parameter(torch.zeros(1, cfg.num_registers, cfg.dim))
        self.transformer = Transformer(cfg.dim, cfg.depth, cfg.heads, cfg.mlp_ratio, cfg.dropout)
        self.register_buffer("pos", sincos_positions(self.layout.grid, cfg.dim), persistent=False)
        init_weights(self.transformer)
        nn.init.trunc_normal_(self.registers, std=0.02)

    def tokenize(self, batch: Any) -> TokenBatch:
        """Run the modality tokenizer on a raw batch."""
        return self.tokenizer(batch)

    def forward(self, tokens: TokenBatch, idx: Tensor | None = None,
                idx_valid: Tensor | None = None) -> Tensor:
        """Encode all tokens, or only those at ``idx`` (the context).

        Shapes:
            idx, idx_valid ``[B, K]`` -> ``[B, K, D]`` (``[B, N, D]`` without idx).
        """
        return self.encode(tokens, idx, idx_valid)[0]

    def encode(self, tokens: TokenBatch, idx: Tensor | None = None,
               idx_valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Like :meth:`forward`, also returning the register outputs ``[B, R, D]``."""
        x = self.input_proj(tokens.tokens) + self.pos.to(tokens.tokens.dtype)
        valid = tokens.valid
        if idx is not None:
            x = gather_tokens(x, idx)
            valid = torch.gather(valid, 1, idx) & (idx_valid if idx_valid is not None else True)
        regs = self.registers.expand(x.shape[0], -1, -1).to(x.dtype)
        r = regs.shape[1]
        x = torch.cat([regs, x], dim=1)
        valid = F.pad(valid, (r, 0), value=True)
        if self.attention_window:
            if idx is None:  # the whole grid: one mask shared by the batch
                idx = torch.arange(self.layout.num_tokens, device=x.device)[None]
            near = F.pad(window_mask(idx, self.layout.grid, self.attention_window), (r, 0, r, 0), value=True)
            valid = near & valid[:, None, :]  # [B, R + K, R + K]: per-query key masks
        out = self.transformer(x, valid)
        return out[:, r:], out[:, :r]

    def token_features(self, batch: Any) -> tuple[Tensor, Tensor]:
        """Per-token features of a raw batch and their validity, ``[B, N, D]``, ``[B, N]``."""
        tokens = self.tokenize(batch)
        return self(tokens), tokens.valid

    def pooled_features(self, batch: Any) -> Tensor:
        """One vector per sample.

        ``mean``: the mean over valid tokens, ``[B, D]``; ``registers``: the mean of the
        register outputs, ``[B, D]``; ``concat``: every token's features side by side,
        ``[B, N * D]``, invalid tokens zeroed (T-JEPA flattens its per-feature tokens this
        way; meant for small fixed grids such as a table's columns).
        """
        tokens = self.tokenize(batch)
        feats, registers = self.encode(tokens)
        if self.pooling == "registers":
            return registers.mean(dim=1)
        w = tokens.valid.to(feats.dtype).unsqueeze(-1)
        if self.pooling == "concat":
            return (feats * w).flatten(1)
        return (feats * w).sum(1) / w.sum(1).clamp_min(1.0)
