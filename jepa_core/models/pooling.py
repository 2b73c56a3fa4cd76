"""Poolings: one vector per sample from an encoder's per-token and register outputs.

Poolings are components (entry-point group ``jepa_core.poolings``) chosen by
``pooling.name``; the ``pooling:`` section holds the chosen one's ``config_class``
fields (the built-ins have none) and it is built by :meth:`Pooling.from_config`.
:meth:`Encoder.pooled_features <jepa_core.models.Encoder.pooled_features>` calls it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import Tensor

from ..config import ComponentConfig


def valid_mean(features: Tensor, valid: Tensor) -> Tensor:
    """Each sample's mean over its valid tokens (zeros for a sample with none).

    Shapes:
        features ``[B, N, D]``, valid ``[B, N]`` -> ``[B, D]``.

    Examples:
        >>> valid_mean(torch.tensor([[[1.0], [3.0], [9.0]]]), torch.tensor([[True, True, False]]))
        tensor([[2.]])
    """
    w = valid.to(features.dtype).unsqueeze(-1)
    return (features * w).sum(1) / w.sum(1).clamp_min(1.0)


class Pooling:
    """Base of every pooling: ``pool(features, registers, valid) -> [B, D']``.

    ``min_registers`` is the number of register tokens the pooling needs, ``needs_grid``
    whether it needs a fixed token grid (the same number of tokens in every sample);
    ``config_class`` (a :class:`~jepa_core.config.ComponentConfig` dataclass, the
    ``pooling:`` section) its settings, passed to the constructor as keyword arguments
    by :meth:`from_config`.
    """

    min_registers: ClassVar[int] = 0
    needs_grid: ClassVar[bool] = False
    config_class: ClassVar[type | None] = None

    @classmethod
    def from_config(cls, cfg: Any) -> "Pooling":
        """Build from the ``pooling`` section: its fields (all but ``name``) as keyword args."""
        return cls(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)
                      if f.name != "name"})

    def bind(self, grid: tuple[int, ...] | None) -> None:
        """Told the encoder's token grid (``TokenLayout.grid``, ``None`` without one) once,
        when the encoder is built; a pooling that needs the grid's shape keeps it."""

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
        return valid_mean(features, valid)


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

    needs_grid = True

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        return (features * valid.to(features.dtype).unsqueeze(-1)).flatten(1)


class MeanStdPooling(Pooling):
    """``mean_std``: the mean and the standard deviation over valid tokens side by side,
    ``[B, 2 * D]``.

    The mean alone averages away how the tokens vary across a sample; the spread keeps
    some of it (a sound that changes over time against a steady one with the same
    spectrum), as the raw mean/std statistics of a spectrogram's bands do.

    Examples:
        >>> import torch
        >>> MeanStdPooling()(torch.tensor([[[1.0], [3.0], [9.0]]]), torch.zeros(1, 0, 1),
        ...                  torch.tensor([[True, True, False]]))
        tensor([[2., 1.]])
    """

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        mean = valid_mean(features, valid)
        var = valid_mean((features - mean.unsqueeze(1)).square(), valid)
        return torch.cat([mean, var.sqrt()], dim=-1)


@dataclasses.dataclass
class AxisMeanConfig(ComponentConfig):
    """``pooling:`` section of ``axis_mean``: the grid axis averaged away (``-1``: the last)."""

    axis: int = -1


class AxisMeanPooling(Pooling):
    """``axis_mean``: the mean over valid tokens along one grid axis, the other axes side by
    side, ``[B, (N / grid[axis]) * D]``.

    For a spectrogram's (frequency, time) grid, ``axis: -1`` averages over time and keeps
    one vector per frequency band (the clip embedding of BYOL-A / M2D); a position along
    the axis with no valid token gives zeros.

    Examples:
        >>> import torch
        >>> pool = AxisMeanPooling(axis=-1)
        >>> pool.bind((2, 3))
        >>> x = torch.arange(6.0).view(1, 6, 1)
        >>> pool(x, torch.zeros(1, 0, 1), torch.tensor([[True, True, False, True, True, True]]))
        tensor([[0.5000, 4.0000]])
    """

    needs_grid = True
    config_class = AxisMeanConfig

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis
        self.grid: tuple[int, ...] | None = None

    def bind(self, grid: tuple[int, ...] | None) -> None:
        if grid is None:
            return
        if not -len(grid) <= self.axis < len(grid):
            raise ValueError(f"pooling.axis={self.axis} is not an axis of the {len(grid)}-D token grid {tuple(grid)}")
        self.grid = tuple(grid)

    def __call__(self, features: Tensor, registers: Tensor, valid: Tensor) -> Tensor:
        b, _, d = features.shape
        axis = self.axis % len(self.grid)
        x = features.reshape(b, *self.grid, d).movedim(axis + 1, -2)       # [B, ..., A, D]
        w = valid.reshape(b, *self.grid).movedim(axis + 1, -1).to(features.dtype).unsqueeze(-1)
        return ((x * w).sum(-2) / w.sum(-2).clamp_min(1.0)).flatten(1)


def create_pooling(cfg: Any = None) -> Pooling:
    """The registered pooling of a ``pooling`` section, built by its ``from_config``.

    Args:
        cfg: the run config's ``pooling`` section, a mapping ``{name: ..., <fields>}``,
            or a name; ``None``: the default (``mean``).

    Raises:
        jepa_core.config.ConfigError: ``name`` is not registered (naming those that are)
            or its plugin failed to load, or a field the pooling does not have.

    Examples:
        >>> type(create_pooling("concat")).__name__
        'ConcatPooling'
    """
    from ..config import component_config
    from ..registry import get_registry

    if isinstance(cfg, str):
        cfg = {"name": cfg}
    cfg = component_config("pooling", {} if cfg is None else cfg)
    return get_registry("pooling").get(cfg.name).from_config(cfg)
