"""The JEPA encoder: a modality's tokenizer followed by a transformer over valid tokens."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ModelConfig, component_config
from ..modality import Tokenizer
from ..ops import gather_tokens
from ..tokens import TokenBatch
from .pooling import create_pooling
from .positions import resize_positions, sincos_coords, sincos_positions
from .transformer import Transformer, init_weights
from .windows import window_mask


class Encoder(nn.Module):
    """Tokenizer + sin-cos positions + register tokens + pre-LN transformer.

    The same surface for every modality: :meth:`tokenize` a raw batch, run
    :meth:`forward` on a :class:`TokenBatch` (optionally on a subset of its tokens, the
    context), or ask for :meth:`token_features` / :meth:`pooled_features` of a raw batch.
    Register tokens (T-JEPA's regularization tokens, ViT registers) are prepended to every
    sequence and never masked; they are dropped from the per-token output.

    With ``cfg.attention_window = r > 0`` each token attends only to the tokens within
    ``r`` grid steps of it (and to the registers, which attend to all): local features
    with local context, like a convolutional backbone's (see :mod:`.windows`). Windows
    need a grid.

    Positions come from the batch's ``coords`` when it has them (continuous sin-cos,
    :func:`.sincos_coords`), else from the grid (a table built once). A batch on another
    grid than the tokenizer's (an image embedded at another resolution than training)
    gets the training table resampled to its grid (:func:`.resize_positions`, bicubic in
    2-D), as ViTs are evaluated at a new resolution. A tokenizer without
    a grid (``layout = None``) sets ``coord_dim``; its batches may differ in token count,
    and a pooling that needs a grid (``concat``: a fixed number of tokens per sample) is
    refused for it.

    Args:
        tokenizer: the modality's tokenizer; its ``layout`` fixes the grid (``None``: none).
        cfg: model sizes.
        pooling: the ``pooling`` section (or a pooling's name) that
            :meth:`pooled_features` uses; ``None``: ``mean``.
    """

    def __init__(self, tokenizer: Tokenizer, cfg: ModelConfig, pooling: Any = None) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.layout = tokenizer.layout
        self.dim = cfg.dim
        section = component_config("pooling", {"name": pooling} if isinstance(pooling, str)
                                   else pooling or {})
        self.pooling = section.name
        self.pool = create_pooling(section)
        self.pool.bind(None if self.layout is None else tuple(self.layout.grid))
        if cfg.num_registers < self.pool.min_registers:
            raise ValueError(f"pooling.name={self.pooling!r} needs model.num_registers >= "
                             f"{self.pool.min_registers}")
        if cfg.attention_window < 0:
            raise ValueError(f"model.attention_window must be >= 0 (0: global), got {cfg.attention_window}")
        self.attention_window = cfg.attention_window
        self.coord_dim = int(getattr(tokenizer, "coord_dim", 0) or 0)
        if self.layout is None:
            name = type(tokenizer).__name__
            if cfg.attention_window:
                raise ValueError(f"model.attention_window applies to token grids; the {name} "
                                 "tokenizer has none (layout None): set model.attention_window=0")
            if self.pool.needs_grid:
                raise ValueError(f"pooling.name={self.pooling!r} needs a fixed token grid; the {name} "
                                 "tokenizer has none (layout None): use 'mean' or 'registers'")
            if self.coord_dim < 1:
                raise ValueError(f"the {name} tokenizer has no grid (layout None), so it must set "
                                 "coord_dim, the number of coordinates per token")
        if self.coord_dim and cfg.dim < 2 * self.coord_dim:
            raise ValueError(f"model.dim={cfg.dim} is too small for {self.coord_dim}-D coordinates")
        self.input_proj = nn.Identity() if tokenizer.dim == cfg.dim else nn.Linear(tokenizer.dim, cfg.dim)
        self.registers = nn.Parameter(torch.zeros(1, cfg.num_registers, cfg.dim))
        self.transformer = Transformer(cfg.dim, cfg.depth, cfg.heads, cfg.mlp_ratio, cfg.dropout)
        grid_pos = None if self.layout is None else sincos_positions(self.layout.grid, cfg.dim)
        self.register_buffer("pos", grid_pos, persistent=False)
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
        x = self.input_proj(tokens.tokens) + self.positions(tokens)
        valid = tokens.valid
        if idx is not None:
            x = gather_tokens(x, idx)
            valid = torch.gather(valid, 1, idx) & (idx_valid if idx_valid is not None else True)
        regs = self.registers.expand(x.shape[0], -1, -1).to(x.dtype)
        r = regs.shape[1]
        x = torch.cat([regs, x], dim=1)
        valid = F.pad(valid, (r, 0), value=True)
        if self.attention_window:
            layout = tokens.layout or self.layout
            if idx is None:  # the whole grid: one mask shared by the batch
                idx = torch.arange(layout.num_tokens, device=x.device)[None]
            near = F.pad(window_mask(idx, layout.grid, self.attention_window), (r, 0, r, 0), value=True)
            valid = near & valid[:, None, :]  # [B, R + K, R + K]: per-query key masks
        out = self.transformer(x, valid)
        return out[:, r:], out[:, :r]

    def positions(self, tokens: TokenBatch) -> Tensor:
        """Position embeddings of a batch: ``[B, N, D]`` from its coords, else ``[N, D]``.

        A batch on another grid than the tokenizer's gets the grid's table resampled
        to its own (:func:`.resize_positions`).

        Raises:
            ValueError: coords with another number of axes than the tokenizer's
                ``coord_dim``, or a batch with neither coords nor a grid.
        """
        dtype = tokens.tokens.dtype
        if tokens.coords is not None:
            if self.coord_dim and tokens.coords.shape[-1] != self.coord_dim:
                raise ValueError(f"coords have {tokens.coords.shape[-1]} axes per token, the "
                                 f"tokenizer declares coord_dim={self.coord_dim}")
            return sincos_coords(tokens.coords, self.dim, dtype)
        if self.pos is None:
            raise ValueError("this encoder has no token grid: the batch needs coords")
        if tokens.layout is not None and tokens.layout.grid != self.layout.grid:
            return resize_positions(self.pos, self.layout.grid, tokens.layout.grid).to(dtype)
        return self.pos.to(dtype)

    def token_features(self, batch: Any) -> tuple[Tensor, Tensor]:
        """Per-token features of a raw batch and their validity, ``[B, N, D]``, ``[B, N]``.

        Without a grid ``N`` is the batch's own (padded) token count.
        """
        tokens = self.tokenize(batch)
        return self(tokens), tokens.valid

    def pooled_features(self, batch: Any) -> Tensor:
        """One vector per sample, by the ``pooling`` component (:mod:`.pooling`):
        ``mean`` ``[B, D]``, ``registers`` ``[B, D]`` or ``concat`` ``[B, N * D]``."""
        tokens = self.tokenize(batch)
        if self.pool.needs_grid and tokens.layout is not None and tokens.layout.grid != self.layout.grid:
            raise ValueError(f"pooling.name={self.pooling!r} is fixed to the training grid "
                             f"{self.layout.grid}; this batch's tokens lie on {tokens.layout.grid} "
                             "(another input size): embed at the training size, or per token")
        feats, registers = self.encode(tokens)
        return self.pool(feats, registers, tokens.valid)
