"""Piecewise-linear encoding of numeric features (PLE, Gorishniy et al., 2022).

A value ``x`` of a feature with bin edges ``e_0 < e_1 < ... < e_T`` becomes ``T`` numbers:
1 for every bin entirely below ``x``, ``(x - e_{t-1}) / (e_t - e_{t-1})`` for the bin that
holds it, 0 for the bins above. The edges are quantiles of the feature's training values, so
every bin holds about as many rows and a linear map of the encoding is a piecewise-linear
function of ``x`` with a knot at each edge: one token can tell apart values that a linear map
of ``x`` puts on a line (thresholds, codes stored as numbers), which is what gradient-boosted
trees exploit. From "On Embeddings for Numerical Features in Tabular Deep Learning"
(Gorishniy, Rubachev and Babenko, NeurIPS 2022).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def fit_ple_edges(values: np.ndarray, bins: int) -> list[float]:
    """Bin edges at the ``bins + 1`` quantiles of ``values``, repeated edges merged.

    A feature with few distinct values gets fewer (and unequal) bins; a constant feature
    gets one edge and no bin.

    Args:
        values: the feature's observed (non-missing) training values, standardized as the
            tokenizer sees them.
        bins: ``T``, the most bins a feature gets.

    Returns:
        The increasing edges (at most ``bins + 1``; none for an empty ``values``).

    Examples:
        >>> fit_ple_edges(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 2)
        [0.0, 2.0, 4.0]
        >>> fit_ple_edges(np.array([1.0, 1.0, 1.0, 1.0, 5.0]), 4)
        [1.0, 5.0]
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return []
    edges = np.quantile(values, np.linspace(0.0, 1.0, bins + 1))
    return [float(e) for e in np.unique(edges)]


def edge_table(edges: list[list[float]], bins: int) -> tuple[Tensor, Tensor, Tensor]:
    """Per-feature edges as padded tensors for :func:`ple_encode`.

    Args:
        edges: for each feature, its increasing edges (from :func:`fit_ple_edges`).
        bins: ``T``, the encoding width; a feature with fewer bins gets padding bins that
            always encode 0.

    Returns:
        ``(lower, width, valid)``, each ``[F, T]``: bin ``t``'s lower edge, its width (1 for
        padding) and whether it is a real bin.

    Raises:
        ValueError: a feature has more than ``bins + 1`` edges or edges that do not increase.
    """
    lower = torch.zeros(len(edges), bins)
    width = torch.ones(len(edges), bins)
    valid = torch.zeros(len(edges), bins, dtype=torch.bool)
    for j, e in enumerate(edges):
        e = torch.tensor(e, dtype=torch.float64)
        n = max(len(e) - 1, 0)
        if n > bins:
            raise ValueError(f"feature {j} has {n} PLE bins; expected at most {bins}")
        if n and not bool((e[1:] > e[:-1]).all()):
            raise ValueError(f"feature {j}: PLE edges must increase, got {e.tolist()}")
        lower[j, :n] = e[:-1].float()
        width[j, :n] = (e[1:] - e[:-1]).float()
        valid[j, :n] = True
    return lower, width, valid


def ple_encode(x: Tensor, lower: Tensor, width: Tensor, valid: Tensor) -> Tensor:
    """The piecewise-linear encoding of ``x`` (values outside the edges saturate at 0 / 1).

    Args:
        x: values, ``[B, F]``.
        lower, width, valid: from :func:`edge_table`, ``[F, T]``.

    Returns:
        ``[B, F, T]``, each entry in ``[0, 1]``.

    Examples:
        >>> lower, width, valid = edge_table([[0.0, 1.0, 3.0]], 3)
        >>> ple_encode(torch.tensor([[2.0]]), lower, width, valid).tolist()
        [[[1.0, 0.5, 0.0]]]
    """
    frac = ((x.unsqueeze(-1) - lower) / width).clamp(0.0, 1.0)        # [B, F, T]
    return torch.where(valid, frac, torch.zeros_like(frac))
