"""Empty-aware BEV masking (AD-L-JEPA): non-empty and empty cells are split alike.

In a LiDAR bird's-eye view most cells hold no point. Drawing targets uniformly would
make the objective mostly about predicting emptiness, so, as in AD-L-JEPA, the masker
splits the non-empty tokens and the empty tokens *separately* with the same ratios: a
``target_ratio`` share of each group becomes the target set, a ``context_ratio`` share of
each group (taken from the rest) the context. Targets and context are disjoint.

With ``block > 1`` the draw is made per ``block x block`` square of the token grid
(every token of a square gets the square's random word), so targets and context come in
squares: a target is then not surrounded by context tokens it could be interpolated
from. ``block=1`` (the default) draws every token on its own.

Every draw is counter-based Philox (:mod:`jepa_core.ops.masking.philox`): token ``j`` of
sample ``id`` at ``step`` gets the word ``philox((j, step, id, TAG_BEV), seed)``, so the
masks do not depend on the batch composition, the rank or a resume.

Reference: Zhu et al., "AD-L-JEPA" (arXiv:2501.04969).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..config import ComponentConfig
from ..tokens import TokenLayout
from ..ops.masking import MaskSet
from ..ops.masking.philox import philox4x32, sample_counters, seed_key
from .base import Masker

#: Philox stream tag of the BEV masker (counter word 3, low byte).
TAG_BEV = 16


def _split_counts(n: Tensor, ratio: float) -> Tensor:
    return torch.round(n.to(torch.float64) * ratio).to(torch.int64)


def _pad_indices(select: Tensor) -> tuple[Tensor, Tensor]:
    """``[B, N]`` bool -> sorted indices ``[B, K]`` (K = max count) and their validity."""
    counts = select.sum(1)
    k = max(int(counts.max()) if select.numel() else 0, 1)
    order = torch.sort((~select).to(torch.int8), dim=1, stable=True).indices[:, :k]
    valid = torch.arange(k, device=select.device)[None] < counts[:, None]
    return torch.where(valid, order, torch.zeros_like(order)), valid


def block_ids(grid: tuple[int, ...], block: int) -> Tensor:
    """``[N]`` id of the ``block x block`` square of each token of a 2-D grid (row-major).

    Examples:
        >>> block_ids((2, 4), 2).tolist()
        [0, 0, 1, 1, 0, 0, 1, 1]
    """
    h, w = grid
    rows, cols = torch.arange(h)[:, None] // block, torch.arange(w)[None] // block
    return (rows * (-(-w // block)) + cols).reshape(-1).to(torch.int64)


def bev_masks(token_empty: Tensor, token_valid: Tensor, sample_ids: Tensor, *, seed: int,
              step: int, context_ratio: float, target_ratio: float,
              blocks: Tensor | None = None) -> MaskSet:
    """Context and one target set per sample, splitting empty and non-empty tokens alike.

    Args:
        token_empty: ``[B, N]`` bool, True for tokens of empty BEV patches.
        token_valid: ``[B, N]`` bool; invalid tokens are never drawn.
        sample_ids: ``[B]`` int64 global sample ids.
        seed, step: the counter-based key.
        context_ratio: share of each group (non-empty, empty) in the context.
        target_ratio: share of each group in the target set.
        blocks: ``[N]`` int64 block id of each token (:func:`block_ids`): tokens of one
            block share their random word, so they fall together; ``None``: every token
            is its own block.

    Returns:
        A :class:`MaskSet` with ``target_idx [B, 1, Kt]``. Every sample with at least two
        valid tokens gets at least one context and one target token.

    Examples:
        >>> empty = torch.tensor([[False] * 4 + [True] * 12])
        >>> m = bev_masks(empty, torch.ones(1, 16, dtype=torch.bool), torch.tensor([0]),
        ...               seed=0, step=0, context_ratio=0.5, target_ratio=0.25)
        >>> int(m.target_valid.sum()), int(m.context_valid.sum())
        (4, 8)
        >>> int(empty[0, m.target_idx[0, 0]].logical_not().sum())  # 1 of the 4 non-empty
        1
    """
    b, n = token_empty.shape
    dev = token_empty.device
    empty = token_empty & token_valid
    full = ~token_empty & token_valid
    c1, c2, c3 = sample_counters(sample_ids.to(dev), step, TAG_BEV)
    j = torch.arange(n, device=dev, dtype=torch.int64)[None]
    drawn = j if blocks is None else blocks.to(dev)[None]
    words = philox4x32(drawn, c1[:, None], c2[:, None], c3[:, None], *seed_key(seed))[..., 0]
    # sort key: group (non-empty first, then empty, then invalid), then the random word
    group = torch.where(full, 0, torch.where(empty, 1, 2)).to(torch.int64)
    order = torch.argsort(group * (1 << 32) + words, dim=1)
    pos = torch.empty_like(order).scatter_(1, order, j.expand(b, n))
    n_full, n_empty = full.sum(1), empty.sum(1)
    rank = pos - torch.where(empty, n_full[:, None], 0)

    t_full, t_empty = _split_counts(n_full, target_ratio), _split_counts(n_empty, target_ratio)
    t_full = torch.where((t_full + t_empty == 0) & (n_full > 1), 1, t_full)
    t_empty = torch.where((t_full + t_empty == 0) & (n_empty > 1), 1, t_empty)
    c_full = torch.minimum(_split_counts(n_full, context_ratio), n_full - t_full)
    c_empty = torch.minimum(_split_counts(n_empty, context_ratio), n_empty - t_empty)
    c_full = torch.where((c_full + c_empty == 0) & (n_full - t_full > 0), 1, c_full)
    c_empty = torch.where((c_full + c_empty == 0) & (n_empty - t_empty > 0), 1, c_empty)

    t_n = torch.where(empty, t_empty[:, None], t_full[:, None])
    c_n = torch.where(empty, c_empty[:, None], c_full[:, None])
    valid = full | empty
    is_target = valid & (rank < t_n)
    is_context = valid & (rank >= t_n) & (rank < t_n + c_n)
    ctx_idx, ctx_valid = _pad_indices(is_context)
    tgt_idx, tgt_valid = _pad_indices(is_target)
    return MaskSet(ctx_idx, ctx_valid, tgt_idx[:, None], tgt_valid[:, None])


@dataclass
class BevConfig(ComponentConfig):
    """``mask:`` section of the empty-aware BEV masker (see :class:`BevMasker`)."""

    context_ratio: float = 0.5
    target_ratio: float = 0.25
    block: int = 1


class BevMasker(Masker):
    """The empty-aware BEV masker (``mask.name: bev``) of AD-L-JEPA.

    The two groups are read from the token types: ordinary tokens (type 0) and the rest
    (lidar's empty cells are type 1); ``token_empty`` (deprecated) is the same as
    ``token_types != 0``.

    Args:
        context_ratio: share of the non-empty and of the empty tokens in the context.
        target_ratio: share of each group predicted; must leave room for the context.
        block: draw ``block x block`` squares of a 2-D token grid together (1: tokens).
    """

    config_class = BevConfig

    def __init__(self, context_ratio: float = 0.7, target_ratio: float = 0.3, block: int = 1) -> None:
        if not 0.0 < target_ratio < 1.0:
            raise ValueError(f"mask.target_ratio must be in (0, 1), got {target_ratio}")
        if not 0.0 < context_ratio <= 1.0:
            raise ValueError(f"mask.context_ratio must be in (0, 1], got {context_ratio}")
        if int(block) != block or block < 1:
            raise ValueError(f"mask.block must be a positive integer, got {block}")
        self.context_ratio = float(context_ratio)
        self.target_ratio = float(target_ratio)
        self.block = int(block)

    def check(self, layout: TokenLayout) -> None:
        if layout.num_tokens < 2:
            raise ValueError(f"the bev masker needs at least 2 tokens, grid {layout.grid} has "
                             f"{layout.num_tokens}")
        if self.block > 1 and layout.ndim != 2:
            raise ValueError(f"mask.block={self.block} needs a 2-D token grid, got grid {layout.grid}")

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_types: Tensor | None = None, token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        self.check(layout)
        n = layout.num_tokens
        if device is None:
            given = token_types if token_types is not None else token_empty
            device = given.device if given is not None else "cpu"
        if sample_ids is None:
            sample_ids = torch.arange(batch_size, device=device)
        if token_valid is None:
            token_valid = torch.ones(batch_size, n, dtype=torch.bool, device=device)
        if token_types is not None:  # ordinary tokens (type 0) are the non-empty group
            token_empty = token_types != 0
        elif token_empty is None:
            token_empty = torch.zeros(batch_size, n, dtype=torch.bool, device=device)
        groups = "token_types" if token_types is not None else "token_empty"
        for name, t in (("token_valid", token_valid), (groups, token_empty)):
            if t.shape != (batch_size, n):
                raise ValueError(f"{name} must be [{batch_size}, {n}], got {tuple(t.shape)}")
        return bev_masks(token_empty.to(device), token_valid.to(device), sample_ids.to(device),
                         seed=seed, step=step, context_ratio=self.context_ratio,
                         target_ratio=self.target_ratio,
                         blocks=block_ids(layout.grid, self.block) if self.block > 1 else None)
