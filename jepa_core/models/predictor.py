"""The JEPA predictor: from context embeddings to the embeddings at target positions.

Predictors are components (entry-point group ``jepa_core.predictors``) chosen by
``predictor.name``; the ``predictor:`` section holds the chosen one's
``config_class`` fields and it is built by :meth:`Predictor.from_config`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from ..config import ComponentConfig, ModelConfig
from ..ops import gather_tokens
from ..tokens import TokenLayout
from .positions import sincos_coords, sincos_positions
from .transformer import Transformer, init_weights


@dataclass
class MaskedPredictorConfig(ComponentConfig):
    """``predictor:`` section of the ``masked`` predictor: its transformer's width, depth
    and heads (``mlp_ratio`` and ``dropout`` are the encoder's, ``model.*``)."""

    name: str = "masked"
    dim: int = 64
    depth: int = 2
    heads: int = 4


class Predictor(nn.Module):
    """A narrow transformer over context tokens plus one mask token per target position.

    The ``masked`` predictor, and the base of every registered one: a subclass sets its
    own ``config_class`` (a :class:`~jepa_core.config.ComponentConfig` dataclass, the
    ``predictor:`` section) and is built by :meth:`from_config`, which it may override.

    Each of the ``M`` target blocks is predicted in its own sequence (context + that
    block's mask tokens), as in I-JEPA. Positions come from the batch's ``coords`` when it
    has them (gathered at the context and target indices, continuous sin-cos), else from
    the grid.

    With ``cond_dim > 0`` every block is modulated by AdaLN-zero on a condition (an
    action, for a latent world model), ``TokenBatch.conditions``:

    - per sample ``[B, A]``: one modulation for the whole sequence;
    - per frame ``[B, T, A]``: broadcast to the tokens of each frame, so every context and
      mask token is modulated by its own frame's condition. The frame of a token is its
      index along the grid's first axis, which must have ``T`` entries (a ``(T, H, W)``
      video grid, say); a batch without a grid cannot take per-frame conditions yet.
      Nothing is causal here: every token still attends to the whole context.

    Args:
        layout: the token grid (for positions), ``None`` for tokens placed by coords alone.
        in_dim: width of the context embeddings.
        out_dim: width of the target embeddings.
        cfg: the ``predictor`` section (``dim``, ``depth``, ``heads``).
        cond_dim: width ``A`` of the condition, 0 for none (the tokenizer's
            ``condition_dim``).
        mlp_ratio: the transformer's MLP width over ``dim`` (``model.mlp_ratio``).
        dropout: its dropout (``model.dropout``).
    """

    config_class: ClassVar[type[ComponentConfig]] = MaskedPredictorConfig

    def __init__(self, layout: TokenLayout | None, in_dim: int, out_dim: int,
                 cfg: MaskedPredictorConfig, cond_dim: int = 0, *, mlp_ratio: float = 4.0,
                 dropout: float = 0.0) -> None:
        super().__init__()
        dim = cfg.dim
        self.dim = dim
        self.layout = layout
        self.cond_dim = int(cond_dim)
        self.embed = nn.Linear(in_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.transformer = Transformer(dim, cfg.depth, cfg.heads, mlp_ratio, dropout, self.cond_dim)
        self.head = nn.Linear(dim, out_dim)
        grid_pos = None if layout is None else sincos_positions(layout.grid, dim)
        self.register_buffer("pos", grid_pos, persistent=False)
        init_weights(self)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    @classmethod
    def from_config(cls, cfg: ComponentConfig, *, layout: TokenLayout | None, in_dim: int,
                    out_dim: int, model: ModelConfig, cond_dim: int = 0) -> "Predictor":
        """Build from the ``predictor`` section ``cfg`` (the chosen predictor's
        ``config_class``) for an encoder of width ``in_dim`` on ``layout``, predicting
        ``out_dim``-wide targets; ``model`` gives ``mlp_ratio`` and ``dropout``."""
        return cls(layout, in_dim, out_dim, cfg, cond_dim, mlp_ratio=model.mlp_ratio,
                   dropout=model.dropout)

    def forward(self, z_ctx: Tensor, ctx_idx: Tensor, ctx_valid: Tensor, tgt_idx: Tensor,
                tgt_valid: Tensor, cond: Tensor | None = None, coords: Tensor | None = None) -> Tensor:
        """Predict target embeddings.

        Args:
            cond: the batch's conditions (``TokenBatch.conditions``); required iff
                ``cond_dim > 0``.
            coords: the batch's per-token coordinates (``TokenBatch.coords``), required
                without a grid.

        Shapes:
            z_ctx ``[B, Kc, Din]``, ctx_idx/ctx_valid ``[B, Kc]``,
            tgt_idx/tgt_valid ``[B, M, Kt]``, cond ``[B, A]`` or ``[B, T, A]``,
            coords ``[B, N, C]`` -> ``[B, M, Kt, Dout]``.
        """
        b, m, kt = tgt_idx.shape
        kc = ctx_idx.shape[1]
        flat_tgt = tgt_idx.reshape(b, m * kt)
        if coords is None:
            if self.pos is None:
                raise ValueError("this predictor has no token grid: pass the batch's coords")
            pos = self.pos.to(z_ctx.dtype)
            ctx = (self.embed(z_ctx) + pos[ctx_idx]).repeat_interleave(m, dim=0)
            tgt = self.mask_token.to(z_ctx.dtype) + pos[tgt_idx.reshape(b * m, kt)]
        else:
            ctx_pos = sincos_coords(gather_tokens(coords, ctx_idx), self.dim, z_ctx.dtype)
            tgt_pos = sincos_coords(gather_tokens(coords, flat_tgt), self.dim, z_ctx.dtype)
            ctx = (self.embed(z_ctx) + ctx_pos).repeat_interleave(m, dim=0)
            tgt = self.mask_token.to(z_ctx.dtype) + tgt_pos.view(b * m, kt, -1)
        x = torch.cat([ctx, tgt], dim=1)
        valid = torch.cat([ctx_valid.repeat_interleave(m, dim=0), tgt_valid.reshape(b * m, kt)], dim=1)
        cond = self._condition(cond, b, m, ctx_idx, flat_tgt)
        out = self.transformer(x, valid, cond, out_from=kc)  # the mask tokens
        return self.head(out).view(b, m, kt, -1)

    def _condition(self, cond: Tensor | None, b: int, m: int, ctx_idx: Tensor,
                   flat_tgt: Tensor) -> Tensor | None:
        """The condition per sequence ``[B * M, A]`` or per token ``[B * M, Kc + Kt, A]``."""
        if cond is None:
            if self.cond_dim:
                raise ValueError(f"this predictor is conditioned (cond_dim={self.cond_dim}) but the "
                                 "batch has no conditions (TokenBatch.conditions)")
            return None
        if not self.cond_dim:
            raise ValueError("the batch carries conditions but the predictor is unconditioned: the "
                             "tokenizer must set condition_dim")
        if cond.dim() not in (2, 3) or cond.shape[0] != b or cond.shape[-1] != self.cond_dim:
            raise ValueError(f"conditions must be [B, A] or [B, T, A] with B = {b} (the batch size) "
                             f"and A = {self.cond_dim} (condition_dim), got {tuple(cond.shape)}")
        if cond.dim() == 2:
            return cond.to(self.mask_token.dtype).repeat_interleave(m, dim=0)
        frames = cond.shape[1]
        if self.layout is None or self.layout.grid[0] != frames:
            grid = None if self.layout is None else self.layout.grid
            raise ValueError(f"per-frame conditions [B, T={frames}, A] need a token grid whose first "
                             f"axis has T frames; the grid is {grid}")
        per_frame = math.prod(self.layout.grid[1:])
        ctx_frame = torch.div(ctx_idx, per_frame, rounding_mode="floor")
        tgt_frame = torch.div(flat_tgt, per_frame, rounding_mode="floor")
        ctx_cond = gather_tokens(cond, ctx_frame).repeat_interleave(m, dim=0)  # [B*M, Kc, A]
        tgt_cond = gather_tokens(cond, tgt_frame).view(b * m, -1, self.cond_dim)
        return torch.cat([ctx_cond, tgt_cond], dim=1).to(self.mask_token.dtype)


def create_predictor(cfg: ComponentConfig | dict[str, Any] | str | None = None, *,
                     layout: TokenLayout | None, in_dim: int, out_dim: int,
                     model: ModelConfig | None = None, cond_dim: int = 0) -> Predictor:
    """The registered predictor of a ``predictor`` section, built by its ``from_config``.

    Args:
        cfg: the run config's ``predictor`` section, a mapping ``{name: ..., <fields>}``,
            or a name (with its defaults); ``None``: the default (``masked``).

    Raises:
        jepa_core.config.ConfigError: an unknown predictor (naming the registered ones)
            or a field it does not have.

    Examples:
        >>> from jepa_core.tokens import TokenLayout
        >>> p = create_predictor({"dim": 16, "heads": 2}, layout=TokenLayout((4,)), in_dim=8, out_dim=8)
        >>> p.dim, len(p.transformer.blocks)
        (16, 2)
    """
    from ..config import component_config
    from ..registry import get_registry

    if isinstance(cfg, str):
        cfg = {"name": cfg}
    cfg = component_config("predictor", {} if cfg is None else cfg)
    return get_registry("predictor").get(cfg.name).from_config(
        cfg, layout=layout, in_dim=in_dim, out_dim=out_dim, model=model or ModelConfig(),
        cond_dim=cond_dim)
