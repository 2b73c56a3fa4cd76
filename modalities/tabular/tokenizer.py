"""Per-feature tokenizer for tables (T-JEPA / FT-Transformer style)."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from jepa_core.modality import Tokenizer
from jepa_core.tokens import TokenBatch, TokenLayout

from .options import NUMERIC_EMBEDDINGS
from .ple import edge_table, ple_encode
from .transform import FIRST_VALUE_INDEX


class TabularTokenizer(Tokenizer):
    """One token per feature: numerics first, then categoricals, plus a feature-index embedding.

    A numeric value ``x_j`` becomes ``x_j * W_j + b_j`` (``numeric_embedding="linear"``),
    or, with ``"periodic"``, ``ReLU(L_j([sin(2 pi c_j x_j), cos(2 pi c_j x_j)]))`` with
    ``frequencies`` learned frequencies ``c_j`` per feature drawn from ``N(0, sigma^2)`` and a
    per-feature linear map ``L_j`` (the PLR embedding of Gorishniy et al., 2022, which lets
    one token tell apart values a linear map of ``x_j`` cannot, such as codes stored as
    numbers), or, with ``"linear_periodic"``, the sum of the two (the linear trend kept, the
    periodic part adding what it cannot say), or, with ``"ple"``, ``L_j(PLE_j(x_j))``: the
    piecewise-linear encoding of ``x_j`` on the feature's quantile bins (fitted with the
    schema; :mod:`~modalities.tabular.ple`) through a per-feature linear map, or, with
    ``"linear_ple"``, the sum of the linear value and that, or, with ``"ple_relu"``,
    ``ReLU(L_j(PLE_j(x_j)))`` (Gorishniy's PLE-LR); a missing numeric becomes the
    learned per-feature missing embedding ``m_j`` instead. A categorical value looks up its
    column's embedding table, whose row 0 is the column's missing embedding and row 1 its
    unknown-category embedding (the tables of all columns are stored as one flat table with
    per-column offsets). Every token then gets its learned feature-index embedding ``e_j``.
    Missing features stay valid tokens (their embedding says "missing"); register tokens
    are the encoder's business, not the tokenizer's.

    From T-JEPA (Thimonier et al., 2025), after the FT-Transformer feature tokenizer.

    Args:
        num_numeric: ``Fn``, the number of numeric features.
        cardinalities: for each categorical feature, its table size (vocabulary + 2).
        dim: token width ``D``.
        numeric_embedding: ``linear``, ``periodic``, ``linear_periodic``, ``ple``,
            ``linear_ple`` or ``ple_relu``.
        frequencies: ``K``, frequencies per numeric feature (periodic embeddings only).
        sigma: the standard deviation the frequencies are drawn from (periodic embeddings only).
        ple_edges: for each numeric feature, its increasing bin edges (``ple`` embeddings
            only; from the schema's ``ple_edges``).
        ple_bins: ``T``, the encoding width (``ple`` embeddings only; features with fewer
            bins are padded).

    Shapes:
        batch ``{"num": [B, Fn] float, "num_missing": [B, Fn] bool, "cat": [B, Fc] int64}``
        → tokens ``[B, Fn + Fc, D]``, valid all ``True``.

    Examples:
        >>> tok = TabularTokenizer(2, [4], dim=8)
        >>> out = tok({"num": torch.zeros(3, 2), "num_missing": torch.zeros(3, 2, dtype=torch.bool),
        ...            "cat": torch.ones(3, 1, dtype=torch.long)})
        >>> tuple(out.tokens.shape), out.layout.grid
        ((3, 3, 8), (3,))
    """

    def __init__(self, num_numeric: int, cardinalities: list[int], dim: int,
                 numeric_embedding: str = "linear", frequencies: int = 16, sigma: float = 1.0,
                 ple_edges: list[list[float]] | None = None, ple_bins: int = 16) -> None:
        super().__init__()
        if numeric_embedding not in NUMERIC_EMBEDDINGS:
            raise ValueError(f"numeric_embedding must be one of {list(NUMERIC_EMBEDDINGS)}, "
                             f"got {numeric_embedding!r}")
        if num_numeric + len(cardinalities) < 1:
            raise ValueError("a tabular tokenizer needs at least one feature")
        if any(c < FIRST_VALUE_INDEX for c in cardinalities):
            raise ValueError(f"categorical tables need >= {FIRST_VALUE_INDEX} rows "
                             f"(missing, unknown), got {cardinalities}")
        self.num_numeric = int(num_numeric)
        self.num_categorical = len(cardinalities)
        self.cardinalities = [int(c) for c in cardinalities]
        self.dim = int(dim)
        self.layout = TokenLayout((self.num_numeric + self.num_categorical,))
        # Values at unit scale, not FT-Transformer's 1/sqrt(D): the encoder adds sin-cos
        # positions of norm sqrt(D/2) and LayerNorms every token, so value embeddings of
        # norm ~sqrt(D/3)*|x| keep each token's content dominated by the feature's value.
        # At 1/sqrt(D) they were ~10% of the token: every LayerNorm and GELU then acted
        # almost linearly on the data, targets were the per-feature constants (effective
        # rank ~ number of features) and pretraining changed nothing a linear probe sees.
        bound = 1.0
        self.numeric_embedding = numeric_embedding
        # the parts a numeric token sums: "linear_ple" -> {"linear", "ple"} ("relu": on the ple part)
        self.numeric_parts = frozenset(numeric_embedding.split("_"))
        if "linear" in self.numeric_parts:
            self.num_weight = nn.Parameter(torch.empty(self.num_numeric, dim).uniform_(-bound, bound))
            self.num_bias = nn.Parameter(torch.empty(self.num_numeric, dim).uniform_(-bound, bound))
        self.num_missing = nn.Parameter(torch.empty(self.num_numeric, dim).uniform_(-bound, bound))
        if "periodic" in self.numeric_parts:
            # One linear map per feature from its 2K sin/cos values (each of variance 1/2),
            # scaled so each output has unit variance before the ReLU, as the linear values.
            self.frequencies = nn.Parameter(torch.randn(self.num_numeric, frequencies) * sigma)
            bound_w = math.sqrt(3.0 / frequencies)
            self.periodic_weight = nn.Parameter(
                torch.empty(self.num_numeric, 2 * frequencies, dim).uniform_(-bound_w, bound_w))
            self.periodic_bias = nn.Parameter(torch.zeros(self.num_numeric, dim))
        if "ple" in self.numeric_parts:
            if ple_edges is None or len(ple_edges) != self.num_numeric:
                raise ValueError(f"numeric_embedding={numeric_embedding!r} needs bin edges for each of "
                                 f"the {self.num_numeric} numeric features")
            lower, width, valid = edge_table(ple_edges, ple_bins)
            self.register_buffer("ple_lower", lower, persistent=False)
            self.register_buffer("ple_width", width, persistent=False)
            self.register_buffer("ple_valid", valid, persistent=False)
            # Each of the T encoding entries lies in [0, 1]: weights of bound sqrt(3 / T) keep
            # a token's entries at most about unit variance, as the linear values.
            bound_p = math.sqrt(3.0 / ple_bins)
            self.ple_weight = nn.Parameter(
                torch.empty(self.num_numeric, ple_bins, dim).uniform_(-bound_p, bound_p))
            self.ple_bias = nn.Parameter(torch.zeros(self.num_numeric, dim))
        offsets = [0]
        for c in cardinalities[:-1]:
            offsets.append(offsets[-1] + int(c))
        self.register_buffer("cat_offsets", torch.tensor(offsets[:len(cardinalities)],
                                                         dtype=torch.long), persistent=False)
        self.cat_embedding = nn.Embedding(max(sum(cardinalities), 1), dim)
        nn.init.uniform_(self.cat_embedding.weight, -bound, bound)
        self.feature_embedding = nn.Parameter(torch.zeros(self.layout.num_tokens, dim))
        nn.init.trunc_normal_(self.feature_embedding, std=0.02)

    def forward(self, batch: dict[str, Tensor]) -> TokenBatch:
        parts = []
        if self.num_numeric:
            x = batch["num"].to(self.num_missing.dtype).unsqueeze(-1)      # [B, Fn, 1]
            tokens = 0
            if "linear" in self.numeric_parts:
                tokens = x * self.num_weight + self.num_bias                 # [B, Fn, D]
            if "periodic" in self.numeric_parts:
                angle = 2 * math.pi * x * self.frequencies                       # [B, Fn, K]
                periodic = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)  # [B, Fn, 2K]
                tokens = tokens + torch.relu(torch.einsum("bfk,fkd->bfd", periodic, self.periodic_weight)
                                             + self.periodic_bias)           # [B, Fn, D]
            if "ple" in self.numeric_parts:
                encoded = ple_encode(x.squeeze(-1), self.ple_lower, self.ple_width, self.ple_valid)
                ple = torch.einsum("bft,ftd->bfd", encoded, self.ple_weight) + self.ple_bias
                tokens = tokens + (torch.relu(ple) if "relu" in self.numeric_parts else ple)
            missing = batch["num_missing"].unsqueeze(-1)
            parts.append(torch.where(missing, self.num_missing.expand_as(tokens), tokens))
        if self.num_categorical:
            parts.append(self.cat_embedding(batch["cat"] + self.cat_offsets))  # [B, Fc, D]
        tokens = torch.cat(parts, dim=1) + self.feature_embedding
        return TokenBatch(tokens=tokens, layout=self.layout)
