"""The JEPA predictor: from context embeddings to the embeddings at target positions."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..config import ModelConfig
from ..tokens import TokenLayout
from .positions import sincos_positions
from .transformer import Transformer, init_weights


class Predictor(nn.Module):
    """A narrow transformer over context tokens plus one mask token per target position.

    Each of the ``M`` target blocks is predicted in its own sequence (context + that
    block's mask tokens), as in I-JEPA. With ``cond_dim > 0`` every block is modulated by
    AdaLN-zero on a condition vector (an action, for a latent world model).

    Args:
        layout: the token grid (for positions).
        in_dim: width of the context embeddings.
        out_dim: width of the target embeddings.
        cfg: predictor sizes (``predictor_dim``, ``predictor_depth``, ``predictor_heads``).
        cond_dim: width of the condition vector, 0 for none.
    """

    def __init__(self, layout: TokenLayout, in_dim: int, out_dim: int, cfg: ModelConfig,
                 cond_dim: int = 0) -> None:
        super().__init__()
        dim = cfg.predictor_dim
        self.embed = nn.Linear(in_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.transformer = Transformer(dim, cfg.predictor_depth, cfg.predictor_heads, cfg.mlp_ratio,
                                       cfg.dropout, cond_dim)
        self.head = nn.Linear(dim, out_dim)
        self.register_buffer("pos", sincos_positions(layout.grid, dim), persistent=False)
        init_weights(self)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, z_ctx: Tensor, ctx_idx: Tensor, ctx_valid: Tensor, tgt_idx: Tensor,
                tgt_valid: Tensor, cond: Tensor | None = None) -> Tensor:
        """Predict target embeddings.

        Shapes:
            z_ctx ``[B, Kc, Din]``, ctx_idx/ctx_valid ``[B, Kc]``,
            tgt_idx/tgt_valid ``[B, M, Kt]``, cond ``[B, C]`` -> ``[B, M, Kt, Dout]``.
        """
        b, m, kt = tgt_idx.shape
        kc = ctx_idx.shape[1]
        pos = self.pos.to(z_ctx.dtype)
        ctx = (self.embed(z_ctx) + pos[ctx_idx]).repeat_interleave(m, dim=0)
        tgt = self.mask_token.to(z_ctx.dtype) + pos[tgt_idx.reshape(b * m, kt)]
        x = torch.cat([ctx, tgt], dim=1)
        valid = torch.cat([ctx_valid.repeat_interleave(m, dim=0), tgt_valid.reshape(b * m, kt)], dim=1)
        if cond is not None:
            cond = cond.repeat_interleave(m, dim=0)
        out = self.transformer(x, valid, cond)[:, kc:]
        return self.head(out).view(b, m, kt, -1)
