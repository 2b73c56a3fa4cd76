"""VJepaMasker: V-JEPA's two mask families (short- and long-range 3-D multiblock masks)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..config import ComponentConfig
from ..ops.masking import MaskSet, multiblock_masks
from ..ops.masking.philox import below, philox4x32, sample_counters, seed_key
from ..ops.masking.plans import plan_multiblock
from ..tokens import TokenLayout
from .base import Masker

#: Philox stream tag of the per-sample family choice (the maskers' draws use tags 0-3).
TAG_FAMILY = 0x23

#: Added to the run seed for the long-range family, so its blocks are drawn independently.
FAMILY_SEED_OFFSET = 0x5DEECE66D


@dataclass
class VJepaSettings:
    """What a ``vjepa`` masker draws (defaults: V-JEPA's); its ``mask:`` section and the
    masker itself both hold these fields."""

    short_blocks: int = 8
    short_scale: tuple[float, float] = (0.15, 0.15)
    long_blocks: int = 2
    long_scale: tuple[float, float] = (0.7, 0.7)
    aspect: tuple[float, float] = (0.75, 1.5)
    temporal_scale: tuple[float, float] = (1.0, 1.0)
    min_keep: int = 1
    min_context: int = 4


@dataclass
class VJepaConfig(VJepaSettings, ComponentConfig):
    """``mask:`` section of the ``vjepa`` masker: ``name`` and :class:`VJepaSettings`."""


def mask_to_indices(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Sorted indices of the ``True`` entries of each row, padded with 0, and their validity.

    Examples:
        >>> idx, ok = mask_to_indices(torch.tensor([[True, False, True], [False, True, False]]))
        >>> idx.tolist(), ok.tolist()
        ([[0, 2], [1, 0]], [[True, True], [True, False]])
    """
    count = mask.sum(1)
    width = max(int(count.max()) if mask.numel() else 0, 1)
    order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)[:, :width]
    valid = torch.arange(width, device=mask.device)[None] < count[:, None]
    return torch.where(valid, order, torch.zeros_like(order)), valid


def _scatter(idx: Tensor, valid: Tensor, num_tokens: int) -> Tensor:
    """``[B, N]`` bool: the tokens listed in ``idx`` (``[B, K]`` or ``[B, M, K]``) where valid."""
    b = idx.shape[0]
    out = torch.zeros(b, num_tokens + 1, dtype=torch.bool, device=idx.device)
    flat = torch.where(valid, idx, torch.full_like(idx, num_tokens)).reshape(b, -1)
    out.scatter_(1, flat, True)
    return out[:, :num_tokens]


@dataclass
class VJepaMasker(Masker, VJepaSettings):
    """V-JEPA's multiblock masks: each sample gets a short- or a long-range mask.

    A family's target is the union of its blocks (``short_blocks`` blocks of
    ``short_scale`` of the frame, or ``long_blocks`` of ``long_scale``, aspect ``aspect``,
    spanning ``temporal_scale`` of the clip: V-JEPA's full extent by default), predicted
    in one pass (``M = 1``); the context is every other valid token. The blocks come
    from the compiled multiblock op (a context block of the whole grid minus the targets).

    Each sample draws its family from Philox keyed by ``(seed, step, sample id)``, half
    the batch each on average; V-JEPA itself runs every clip under both families in each
    step (two context passes). A sample whose family leaves fewer than ``min_context``
    context tokens (a long-range mask on a small grid can cover all of it) takes the
    other family, and failing that the short family's first block alone.

    Examples:
        >>> m = VJepaMasker()(4, TokenLayout((4, 8, 8)), seed=0, step=0)
        >>> m.target_idx.shape[:2], bool((m.context_valid.sum(1) >= 4).all())
        (torch.Size([4, 1]), True)
    """

    config_class = VJepaConfig

    def _family(self, which: int) -> dict:
        blocks, scale = ((self.short_blocks, self.short_scale) if which == 0
                         else (self.long_blocks, self.long_scale))
        return {"num_targets": blocks, "target_scale": scale, "target_aspect": self.aspect,
                "context_scale": (1.0, 1.0), "context_aspect": (1.0, 1.0), "min_keep": self.min_keep,
                "allow_overlap": False, "temporal_scale": self.temporal_scale}

    def check(self, layout: TokenLayout) -> None:
        for which in (0, 1):
            plan_multiblock(1, layout.grid, seed=0, step=0, **self._family(which))
        if layout.num_tokens < self.min_context + 1:
            raise ValueError(f"grid {layout.grid} has {layout.num_tokens} tokens, too few for "
                             f"min_context={self.min_context} context tokens and a target")

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_types: Tensor | None = None, token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        dev = torch.device(device) if device is not None else (
            token_valid.device if token_valid is not None else torch.device("cpu"))
        n = layout.num_tokens
        ids = (torch.arange(batch_size, dtype=torch.int64, device=dev) if sample_ids is None
               else torch.as_tensor(sample_ids).to(dev, torch.int64))
        valid = (torch.ones(batch_size, n, dtype=torch.bool, device=dev) if token_valid is None
                 else token_valid.to(dev, torch.bool))
        targets, contexts = [], []
        for which in (0, 1):
            m = multiblock_masks(batch_size, layout.grid, seed=seed + which * FAMILY_SEED_OFFSET,
                                 step=step, device=dev, token_valid=valid, sample_ids=ids,
                                 **self._family(which))
            target = _scatter(m.target_idx, m.target_valid, n) & valid
            targets.append(target)
            contexts.append(valid & ~target)
            if which == 0:  # the fallback: the first short-range block alone
                first = _scatter(m.target_idx[:, :1], m.target_valid[:, :1], n) & valid
        c1, c2, c3 = sample_counters(ids, step, TAG_FAMILY)
        word = philox4x32(torch.zeros_like(c1), c1, c2, c3, *seed_key(seed))[:, 0]
        long_first = below(word, 2).bool()[:, None]
        enough = [c.sum(1, keepdim=True) >= self.min_context for c in contexts]
        pick_long = torch.where(long_first, enough[1] | ~enough[0], ~enough[0] & enough[1])
        target = torch.where(pick_long, targets[1], targets[0])
        context = torch.where(pick_long, contexts[1], contexts[0])
        fallback = ~(enough[0] | enough[1])
        target = torch.where(fallback, first, target)
        context = torch.where(fallback, valid & ~first, context)
        c_idx, c_valid = mask_to_indices(context)
        t_idx, t_valid = mask_to_indices(target)
        return MaskSet(c_idx, c_valid, t_idx[:, None], t_valid[:, None])
