"""Gather tokens by per-sample indices: ``tokens[B, N, D]``, ``idx[B, K]`` -> ``[B, K, D]``."""

from __future__ import annotations

import torch
from torch import Tensor


def gather_tokens_reference(tokens: Tensor, idx: Tensor) -> Tensor:
    """Pure-PyTorch reference of :func:`gather_tokens`."""
    return torch.gather(tokens, 1, idx.long().unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))


def gather_tokens(tokens: Tensor, idx: Tensor) -> Tensor:
    """Select ``idx`` tokens of each sample, differentiable w.r.t. ``tokens``.

    Shapes:
        tokens ``[B, N, D]``, idx ``[B, K]`` int -> ``[B, K, D]``.

    Examples:
        >>> t = torch.arange(12.).view(1, 4, 3)
        >>> gather_tokens(t, torch.tensor([[2, 0]]))[0, :, 0]
        tensor([6., 0.])
    """
    return gather_tokens_reference(tokens, idx)
