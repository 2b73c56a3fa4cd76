"""TokenBatch and TokenLayout: what every modality's tokenizer hands to the engine."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class TokenLayout:
    """The grid the tokens of one sample are laid out on, in row-major order.

    Args:
        grid: grid shape, e.g. ``(F,)`` for tabular features, ``(H, W)`` for image or BEV
            patches, ``(T, H, W)`` for video tubes. The number of tokens is its product.

    Examples:
        >>> TokenLayout((4, 6)).num_tokens
        24
    """

    grid: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.grid or any(int(g) < 1 for g in self.grid):
            raise ValueError(f"a token grid needs positive sizes, got {self.grid}")
        object.__setattr__(self, "grid", tuple(int(g) for g in self.grid))

    @property
    def num_tokens(self) -> int:
        return math.prod(self.grid)

    @property
    def ndim(self) -> int:
        return len(self.grid)


def _check_finite(name: str, t: Tensor) -> None:
    """NaN/inf check for tensors on the CPU (on an accelerator it would stall the step)."""
    if t.device.type == "cpu" and t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"TokenBatch.{name} holds NaN or inf values; every {name} must be finite")


@dataclass
class TokenBatch:
    """A padded batch of tokens with a validity mask; nothing is ever truncated.

    Tokens lie either on a fixed grid (``layout``: a table's columns, BEV patches, video
    tubes) or, with ``layout=None``, nowhere in particular: then each token carries its
    own coordinates (a timestamp, a box, a frequency band) and batches may hold different
    numbers of tokens ``N`` (padded to the batch's longest sample, ``valid`` marking the
    real ones). The encoder and predictor take their positions from ``coords`` when a
    batch has them (continuous sin-cos, :func:`jepa_core.models.sincos_coords`), else from
    the grid. Maskers see the grid, or ``TokenLayout((N,))`` of a batch without one
    (:attr:`mask_layout`).

    Args:
        tokens: embedded tokens.
        layout: the grid the ``N`` tokens lie on, or ``None`` for tokens placed by
            ``coords`` alone.
        valid: ``True`` where a token holds data (``False``: padding, a missing cell);
            default all ``True``.
        coords: per-token coordinates, required when ``layout`` is ``None``; in units of
            about one token spacing (the sin-cos frequencies are those of the grid, whose
            step is 1). Must be finite.
        types: per-token type ids ``>= 0`` set by the tokenizer; 0 is an ordinary token
            (lidar marks empty BEV cells 1). The objective weights tokens by type
            (``objective.type_weights``) and maskers that care (``bev``) read them.
            ``None``: all 0.
        conditions: what the predictor is conditioned on (actions, say): per sample
            ``[B, A]`` or per frame ``[B, T, A]``, ``A`` = the tokenizer's
            ``condition_dim``.

    Shapes:
        tokens ``[B, N, D]``, valid ``[B, N]`` bool, coords ``[B, N, C]`` float,
        types ``[B, N]`` int, conditions ``[B, A]`` or ``[B, T, A]`` float.

    Raises:
        ValueError: a tensor of the wrong shape or dtype, or (for tensors on the CPU)
            NaN/inf coordinates or conditions, or a negative type.

    Examples:
        >>> tb = TokenBatch(torch.zeros(2, 3, 8), None, coords=torch.rand(2, 3, 1))
        >>> tb.mask_layout.grid, tb.has_grid
        ((3,), False)
    """

    tokens: Tensor
    layout: TokenLayout | None
    valid: Tensor | None = None
    coords: Tensor | None = None
    types: Tensor | None = None
    conditions: Tensor | None = None

    def __post_init__(self) -> None:
        if self.tokens.dim() != 3:
            raise ValueError(f"tokens must be [B, N, D], got shape {tuple(self.tokens.shape)}")
        b, n, _ = self.tokens.shape
        if self.layout is None:
            if self.coords is None:
                raise ValueError("a TokenBatch without a grid (layout None) needs coords [B, N, C]")
            if n < 1:
                raise ValueError("a TokenBatch without a grid needs at least one token per batch")
        elif n != self.layout.num_tokens:
            raise ValueError(f"{n} tokens do not fill the grid {self.layout.grid}")
        if self.valid is None:
            self.valid = torch.ones(b, n, dtype=torch.bool, device=self.tokens.device)
        if self.valid.shape != (b, n):
            raise ValueError(f"valid must be [{b}, {n}], got {tuple(self.valid.shape)}")
        if self.coords is not None:
            c = self.coords
            if c.dim() != 3 or c.shape[:2] != (b, n) or c.shape[2] < 1:
                raise ValueError(f"coords must be [{b}, {n}, C] with C >= 1 (one row per token), "
                                 f"got {tuple(c.shape)}")
            if not c.is_floating_point():
                raise ValueError(f"coords must be a floating tensor, got {c.dtype}")
            _check_finite("coords", c)
        if self.types is not None:
            t = self.types
            if t.shape != (b, n):
                raise ValueError(f"types must be [{b}, {n}], got {tuple(t.shape)}")
            if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
                raise ValueError(f"types must be an integer tensor of type ids, got {t.dtype}")
            if t.device.type == "cpu" and t.numel() and int(t.min()) < 0:
                raise ValueError("types must be >= 0 (0: an ordinary token)")
        if self.conditions is not None:
            cond = self.conditions
            if cond.dim() not in (2, 3) or cond.shape[0] != b:
                raise ValueError(f"conditions must be [B, A] or [B, T, A] with B = {b} (the batch "
                                 f"size), got {tuple(cond.shape)}")
            if not cond.is_floating_point():
                raise ValueError(f"conditions must be a floating tensor, got {cond.dtype}")
            _check_finite("conditions", cond)

    @property
    def batch_size(self) -> int:
        return self.tokens.shape[0]

    @property
    def num_tokens(self) -> int:
        return self.tokens.shape[1]

    @property
    def dim(self) -> int:
        return self.tokens.shape[2]

    @property
    def has_grid(self) -> bool:
        """Whether the tokens lie on a fixed grid (``layout`` is not ``None``)."""
        return self.layout is not None

    @property
    def mask_layout(self) -> TokenLayout:
        """The layout maskers draw on: the grid, or ``(N,)`` for a batch without one."""
        return self.layout if self.layout is not None else TokenLayout((self.num_tokens,))
