"""TokenBatch and TokenLayout: what every modality's tokenizer hands to the engine."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

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


@dataclass
class TokenBatch:
    """A padded batch of tokens with a validity mask; nothing is ever truncated.

    Args:
        tokens: embedded tokens.
        layout: the grid the ``N`` tokens lie on.
        valid: ``True`` where a token holds data (``False``: padding, a missing cell).
        empty: optional, ``True`` where a valid token is known to be empty (a BEV cell
            without points); losses may weight these differently.

    Shapes:
        tokens ``[B, N, D]``, valid ``[B, N]`` bool, empty ``[B, N]`` bool.
    """

    tokens: Tensor
    layout: TokenLayout
    valid: Tensor | None = None
    empty: Tensor | None = None
    extras: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tokens.dim() != 3:
            raise ValueError(f"tokens must be [B, N, D], got shape {tuple(self.tokens.shape)}")
        b, n, _ = self.tokens.shape
        if n != self.layout.num_tokens:
            raise ValueError(f"{n} tokens do not fill the grid {self.layout.grid}")
        if self.valid is None:
            self.valid = torch.ones(b, n, dtype=torch.bool, device=self.tokens.device)
        if self.valid.shape != (b, n):
            raise ValueError(f"valid must be [{b}, {n}], got {tuple(self.valid.shape)}")

    @property
    def batch_size(self) -> int:
        return self.tokens.shape[0]

    @property
    def num_tokens(self) -> int:
        return self.tokens.shape[1]

    @property
    def dim(self) -> int:
        return self.tokens.shape[2]

    def with_tokens(self, tokens: Tensor) -> "TokenBatch":
        """The same layout and masks around new token values."""
        return replace(self, tokens=tokens)
