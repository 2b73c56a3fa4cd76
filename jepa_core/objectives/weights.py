"""Per-token loss weights by token type (``TokenBatch.types``, ``objective.type_weights``).

A tokenizer tags tokens with type ids (0: ordinary; lidar tags empty BEV cells 1) and the
run config weights each type's share of the latent loss: ``objective.type_weights`` is a
list indexed by type id, types past its end weigh 1. AD-L-JEPA down-weights empty cells
this way (``type_weights: [1.0, 0.25]``). The older ``objective.empty_weight`` is kept as
a deprecated alias for the weight of type 1 and wins over ``type_weights[1]`` when set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor


def type_weight_table(type_weights: Sequence[float] = (), empty_weight: float | None = None
                      ) -> tuple[float, ...] | None:
    """The weight of each token type, or ``None`` when every type weighs 1.

    Args:
        type_weights: ``objective.type_weights``, the weight of type ``i`` at index ``i``.
        empty_weight: ``objective.empty_weight`` (deprecated): the weight of type 1.

    Raises:
        ValueError: a weight that is negative or not finite.

    Examples:
        >>> type_weight_table([], 0.25)
        (1.0, 0.25)
        >>> type_weight_table([1.0, 0.5, 2.0]), type_weight_table([1.0, 1.0]) is None
        ((1.0, 0.5, 2.0), True)
    """
    table = [float(w) for w in type_weights]
    if empty_weight is not None:
        table += [1.0] * (2 - len(table))
        table[1] = float(empty_weight)
    for i, w in enumerate(table):
        if not (math.isfinite(w) and w >= 0):
            name = "empty_weight" if (i == 1 and empty_weight is not None) else f"type_weights[{i}]"
            raise ValueError(f"objective.{name} must be a finite weight >= 0, got {w!r}")
    return tuple(table) if any(w != 1.0 for w in table) else None


def token_type_weights(types: Tensor, table: Tensor) -> Tensor:
    """Look up the weight of each token's type; types past the table's end weigh 1.

    Args:
        types: type ids, any shape, ``>= 0``.
        table: ``[K]`` weights of types ``0 .. K-1``.

    Returns:
        Weights shaped like ``types``, in ``table``'s dtype.

    Examples:
        >>> token_type_weights(torch.tensor([[0, 1, 3]]), torch.tensor([1.0, 0.25]))
        tensor([[1.0000, 0.2500, 1.0000]])
    """
    k = table.shape[0]
    types = types.long()
    known = types < k
    return torch.where(known, table[types.clamp(0, k - 1)], torch.ones((), dtype=table.dtype,
                                                                        device=table.device))
