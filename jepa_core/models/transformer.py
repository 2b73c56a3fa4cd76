"""Pre-LN transformer blocks whose attention reads a key-validity mask.

Attention goes through :func:`jepa_core.ops.masked_attention`, which picks the fused
Triton kernel on CUDA and SDPA elsewhere. A block may take a condition vector, in which
case its norms are modulated by AdaLN-zero (scale, shift and a zero-initialized gate),
as in DiT, for action-conditioned predictors.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..ops import masked_attention


class Attention(nn.Module):
    """Multi-head self-attention over the valid tokens of each sample."""

    def __init__(self, dim: int, heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, key_valid: Tensor | None) -> Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = masked_attention(q, k, v, key_valid)
        return self.dropout(self.proj(out.transpose(1, 2).reshape(b, n, d)))


class Block(nn.Module):
    """``x + attn(norm(x))`` then ``x + mlp(norm(x))``, optionally AdaLN-zero conditioned.

    Shapes:
        x ``[B, N, D]``, key_valid ``[B, N]`` bool (or per query ``[B, N, N]``), cond ``[B, C]``
        (one per sequence) or ``[B, N, C]`` (one per token).
    """

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0, dropout: float = 0.0,
                 cond_dim: int = 0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=cond_dim == 0)
        self.attn = Attention(dim, heads, dropout)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=cond_dim == 0)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, dim), nn.Dropout(dropout))
        self.modulation = None
        if cond_dim:
            self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(cond_dim, 6 * dim))
            nn.init.zeros_(self.modulation[1].weight)
            nn.init.zeros_(self.modulation[1].bias)

    def forward(self, x: Tensor, key_valid: Tensor | None = None, cond: Tensor | None = None) -> Tensor:
        if self.modulation is None:
            x = x + self.attn(self.norm1(x), key_valid)
            return x + self.mlp(self.norm2(x))
        if cond is None:
            raise ValueError("this block is conditioned: pass cond")
        mod = self.modulation(cond)
        if mod.dim() == 2:  # one condition per sequence; else one per token [B, N, C]
            mod = mod[:, None]
        s1, b1, g1, s2, b2, g2 = mod.chunk(6, dim=-1)
        x = x + g1 * self.attn(self.norm1(x) * (1 + s1) + b1, key_valid)
        return x + g2 * self.mlp(self.norm2(x) * (1 + s2) + b2)


class Transformer(nn.Module):
    """A stack of :class:`Block` with a final LayerNorm."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float = 4.0,
                 dropout: float = 0.0, cond_dim: int = 0) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, dropout, cond_dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor, key_valid: Tensor | None = None, cond: Tensor | None = None) -> Tensor:
        for block in self.blocks:
            x = block(x, key_valid, cond)
        return self.norm(x)


def init_weights(module: nn.Module) -> None:
    """Truncated-normal linear weights, zero biases, unit norms (ViT practice)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            if m.weight.abs().sum() == 0:  # keep AdaLN-zero's zeros
                continue
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
