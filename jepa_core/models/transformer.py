"""Pre-LN transformer blocks whose attention reads a key-validity mask.

Attention goes through :func:`jepa_core.ops.masked_attention`, which picks the fused
Triton kernel on CUDA and SDPA elsewhere. A block may take a condition vector, in which
case its norms are modulated by AdaLN-zero (scale, shift and a zero-initialized gate),
as in DiT, for action-conditioned predictors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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
    """A stack of :class:`Block` with a final LayerNorm.

    Padding costs nothing but attention masking: when a ``[B, N]`` key mask leaves a
    good share of the positions empty (ragged sets padded to the longest, such as
    multiblock contexts), the token-wise layers (norms, projections, MLP) run on the
    valid tokens alone, packed into one ``[T, D]`` matrix, and only attention sees the
    padded ``[B, N]`` layout (see :class:`Packing`). Padded positions come out as zeros
    instead of whatever a transformer makes of padding; valid ones are the same either
    way (up to float rounding). Packing reads the mask's valid count on the host, so it
    runs on CPU only, where that is free, never under per-token conditions, and not
    under ``torch.compile`` (where the host read would break the graph).
    """

    #: Pack when at most this fraction of the ``B x N`` positions is valid.
    pack_below = 0.9

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float = 4.0,
                 dropout: float = 0.0, cond_dim: int = 0) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio, dropout, cond_dim) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: Tensor, key_valid: Tensor | None = None, cond: Tensor | None = None,
                *, out_from: int = 0) -> Tensor:
        """Run the blocks; return positions ``out_from:`` only.

        Args:
            out_from: first position whose output is wanted (a predictor reads only its
                mask tokens): the last block's queries, projection and MLP skip the
                positions before it, which still serve as keys.

        Shapes:
            x ``[B, N, D]``, key_valid ``[B, N]`` (or per query ``[B, N, N]``) ->
            ``[B, N - out_from, D]``.
        """
        if self._packs(x, key_valid, cond):
            return self._forward_packed(x, key_valid, out_from)
        for block in self.blocks:
            x = block(x, key_valid, cond)
        return self.norm(x[:, out_from:])

    def _packs(self, x: Tensor, key_valid: Tensor | None, cond: Tensor | None) -> bool:
        if (key_valid is None or key_valid.dim() != 2 or x.device.type != "cpu" or not self.blocks
                or self.blocks[0].modulation is not None or key_valid.numel() == 0
                or torch.compiler.is_compiling()):
            return False
        return float(key_valid.float().mean()) <= self.pack_below

    def _forward_packed(self, x: Tensor, key_valid: Tensor, out_from: int) -> Tensor:
        pack = Packing(key_valid)
        h = pack.pack(x)
        for block in self.blocks[:-1]:
            h = _packed_block(block, h, pack, key_valid)
        out_pack = Packing(key_valid[:, out_from:]) if out_from else pack
        h = _packed_block(self.blocks[-1], h, pack, key_valid, out_pack, out_from)
        return out_pack.unpack(self.norm(h))


class Packing:
    """The valid positions of a padded ``[B, N]`` batch, to move rows in and out of ``[T, D]``.

    Examples:
        >>> p = Packing(torch.tensor([[True, False], [True, True]]))
        >>> p.unpack(p.pack(torch.ones(2, 2, 1)))[..., 0]
        tensor([[1., 0.],
                [1., 1.]])
    """

    def __init__(self, valid: Tensor) -> None:
        self.batch, self.length = valid.shape
        self.rows = valid.reshape(-1).nonzero().squeeze(1)  # [T] into the flat B*N positions
        self.valid = valid

    def pack(self, x: Tensor) -> Tensor:
        """``[B, N, ...]`` -> ``[T, ...]``, the valid positions in order."""
        return x.reshape(self.batch * self.length, *x.shape[2:]).index_select(0, self.rows)

    def unpack(self, h: Tensor) -> Tensor:
        """``[T, ...]`` -> ``[B, N, ...]`` with zeros at the padded positions."""
        out = h.new_zeros(self.batch * self.length, *h.shape[1:]).index_copy_(0, self.rows, h)
        return out.view(self.batch, self.length, *h.shape[1:])


def _packed_block(block: Block, h: Tensor, pack: Packing, key_valid: Tensor,
                  out_pack: Packing | None = None, out_from: int = 0) -> Tensor:
    """One unconditioned :class:`Block` on packed rows ``h`` ``[T, D]``.

    With ``out_pack`` (the valid positions from ``out_from`` on) only those rows are
    updated and returned: the others are keys and values, never queries.
    """
    attn = block.attn
    d = h.shape[-1]
    dh = d // attn.heads
    y = block.norm1(h)
    kv = pack.unpack(F.linear(y, attn.qkv.weight[d:], attn.qkv.bias[d:]))  # [B, N, 2D]
    b, n = kv.shape[:2]
    k, v = kv.view(b, n, 2, attn.heads, dh).permute(2, 0, 3, 1, 4)
    if out_pack is None or out_pack is pack:
        out_pack, keep = pack, None
    else:
        keep = (pack.rows % pack.length >= out_from).nonzero().squeeze(1)  # rows from out_from on
        h, y = h.index_select(0, keep), y.index_select(0, keep)
    q = out_pack.unpack(F.linear(y, attn.qkv.weight[:d], attn.qkv.bias[:d]))
    q = q.view(b, out_pack.length, attn.heads, dh).transpose(1, 2)
    out = masked_attention(q, k, v, key_valid)  # [B, H, Nq, Dh]
    out = out_pack.pack(out.transpose(1, 2).reshape(b, out_pack.length, d))
    h = h + attn.dropout(attn.proj(out))
    return h + block.mlp(block.norm2(h))


def init_weights(module: nn.Module) -> None:
    """Truncated-normal linear weights, zero biases, unit norms (ViT practice)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            if m.weight.abs().sum() == 0:  # keep AdaLN-zero's zeros
                continue
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
