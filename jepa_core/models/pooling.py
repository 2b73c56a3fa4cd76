"""Poolings: one vector per sample from an encoder's per-token and register outputs.

Poolings are components (entry-point group ``jepa_core.poolings``) chosen by
``model.pooling``; :meth:`Encoder.pooled_features <jepa_core.models.Encoder.pooled_features>`
calls the chosen one.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor


class Pooling:
    """Base of every pooling: ``pool(features, registers, valid) -> [B, D']``.

    ``min_registers`` is the number of register tokens the pooling needs.
    """

    min_registers: ClassVar[int] = 0

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        """Pool ``features [B, N, D]`` (``valid [B, N]``) and ``registers [B, R, D]``."""
        raise NotImplementedError  # pragma: no cover - interface


class MeanPooling(Pooling):
    """``mean``: the mean over valid tokens, ``[B, D]``.

    Examples:
        >>> import torch
        >>> MeanPooling()(torch.tensor([[[1.0], [3.0], [9.0]]]), torch.zeros(1, 0, 1),
        ...               torch.tensor([[True, True, False]]))
        tensor([[2.]])
    """

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        w = valid.to(features.dtype).unsqueeze(-1)
        return (features * w).sum(1) / w.sum(1).clamp_min(1.0)


class RegisterPooling(Pooling):
    """``registers``: the mean of the register outputs, ``[B, D]``."""

    min_registers = 1

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        return registers.mean(dim=1)


class ConcatPooling(Pooling):
    """``concat``: every token's features side by side, ``[B, N * D]``, invalid ones zeroed.

    T-JEPA flattens its per-feature tokens this way; meant for small fixed grids such as a
    table's columns.
    """

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        return (features * valid.to(features.dtype).unsqueeze(-1)).flatten(1)


def create_pooling(name: str) -> Pooling:
    """The registered pooling ``name`` (``model.pooling``).

    Raises:
        ValueError: ``name`` is not registered (naming those that are) or its plugin
            failed to load.

    Examples:
        >>> type(create_pooling("concat")).__name__
        'ConcatPooling'
    """
    from ..registry import get_registry

    return get_registry("pooling").create(name)
