"""The ``tabular_value`` method: masked latent prediction plus each column's own value.

The ``masked`` method predicts the teacher's tokens of the masked columns from the visible
ones. Those latent targets describe a column in the context of the row, and can smooth away
the per-value detail (which exact code or threshold a value is) that a linear probe on the
features needs to match a tree. This method adds a value-reconstruction term, as masked
autoencoders for tables do beside a latent loss:

``total = masked JEPA loss + weight * value(head(pred), masked columns' values)
+ visible_weight * value(head_ctx(z_ctx), visible columns' values)``

``value`` is a per-column read-out of one token: a numeric column's standardized value
(the one the tokenizer sees) by mean squared error, skipping missing values (or, with
``numeric_target=bins``, which of the column's equal-count bins over this process's batch
it falls in, by cross-entropy); a categorical column's category (its index in the column's table: missing, unknown or a vocabulary entry)
by cross-entropy over that column's table only. The first term reads the predictor's output
for each masked column (the value must be inferred from the other columns); the second,
off by default, reads the context encoder's output for each visible column (the student's
own tokens must keep their value). Both average over the tokens they score.

Chosen with ``--set method.name=tabular_value`` (``method.weight``,
``method.visible_weight``, ``method.numeric_target``, ``method.bins``); the numbers are in
``benchmarks/results/tabular_quality_study.md`` (Session 8).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from jepa_core.config import ComponentConfig, Config, ConfigError
from jepa_core.masking import Masker
from jepa_core.method import JEPA, StepOutput
from jepa_core.models import Encoder, Predictor
from jepa_core.objectives import Objective
from jepa_core.targets import TargetProvider


@dataclass
class ValueTargetConfig(ComponentConfig):
    """Settings of the value-reconstruction terms.

    Args:
        weight: weight of the masked columns' value term (``0``: off).
        visible_weight: weight of the visible columns' value term (``0``: off).
        numeric_target: what a numeric column's token is asked for: ``value`` (its
            standardized value, mean squared error) or ``bins`` (which of ``bins``
            equal-count bins of the column over the batch it falls in, cross-entropy: a
            step function of the value rather than a line).
        bins: the number of bins for ``numeric_target=bins``.
    """

    weight: float = 0.5
    visible_weight: float = 0.0
    numeric_target: str = "value"
    bins: int = 16


def batch_bins(num: Tensor, missing: Tensor, bins: int) -> Tensor:
    """Each numeric value's equal-count bin among its column's observed values in the batch.

    The edges are the column's ``1/bins, ..., (bins-1)/bins`` quantiles over the batch's
    non-missing values; a value's bin is the number of edges below it (ties share a bin, so a
    column with few distinct values uses fewer bins). Missing values get bin 0.

    Shapes:
        num, missing ``[B, Fn]`` -> ``[B, Fn]`` int64 in ``[0, bins)``.

    Examples:
        >>> batch_bins(torch.tensor([[0.0], [1.0], [2.0], [3.0]]), torch.zeros(4, 1, dtype=torch.bool), 2).tolist()
        [[0], [0], [1], [1]]
    """
    x = torch.where(missing, torch.nan, num.float())
    q = torch.arange(1, bins, device=num.device, dtype=x.dtype) / bins
    edges = torch.nanquantile(x, q, dim=0)                                   # [bins - 1, Fn]
    above = (x.unsqueeze(-1) > edges.T.unsqueeze(0)).sum(-1)                 # nan compares False
    return torch.where(missing, 0, above)


class ColumnValueHead(nn.Module):
    """Reads each column's value off one token: a linear map per column.

    A numeric column ``j`` gets ``w_j . h + b_j`` (its standardized value), or, with
    ``bins > 0``, logits over its ``bins`` batch bins (:func:`batch_bins`); a categorical
    column gets logits over its own table (one linear map onto every table side by side,
    the other columns' entries masked out).

    Args:
        dim: the token width ``D``.
        num_numeric: ``Fn``, the numeric columns (token positions ``0 .. Fn - 1``).
        cardinalities: each categorical column's table size (positions ``Fn ..``).
        bins: ``0``: numeric values by regression; ``> 0``: by classification into bins.

    Shapes:
        h ``[B, K, D]``, position ``[B, K]`` (column index) -> numeric predictions ``[B, K]``
        (``[B, K, bins]`` with bins) and categorical logits ``[B, K, V]`` (``V`` the sum of
        the table sizes; entries of other columns are ``-inf``).

    Examples:
        >>> head = ColumnValueHead(4, 1, [3, 2])
        >>> value, logits = head(torch.zeros(1, 3, 4), torch.tensor([[0, 1, 2]]))
        >>> tuple(value.shape), tuple(logits.shape), bool(logits[0, 1, 3:].isinf().all())
        ((1, 3), (1, 3, 5), True)
    """

    def __init__(self, dim: int, num_numeric: int, cardinalities: list[int], bins: int = 0) -> None:
        super().__init__()
        self.num_numeric = int(num_numeric)
        self.bins = int(bins)
        out = (self.bins,) if self.bins else ()
        self.num_weight = nn.Parameter(torch.zeros(max(self.num_numeric, 1), dim, *out))
        self.num_bias = nn.Parameter(torch.zeros(max(self.num_numeric, 1), *out))
        vocab = max(sum(cardinalities), 1)
        self.cat = nn.Linear(dim, vocab)
        owner = torch.full((vocab,), -1, dtype=torch.long)
        offsets = [0]
        for j, c in enumerate(cardinalities):
            owner[offsets[-1]:offsets[-1] + c] = j
            offsets.append(offsets[-1] + int(c))
        self.register_buffer("class_owner", owner, persistent=False)             # [V]
        self.register_buffer("cat_offsets", torch.tensor(offsets[:-1] or [0]), persistent=False)

    def forward(self, h: Tensor, position: Tensor) -> tuple[Tensor, Tensor]:
        num_col = position.clamp(max=max(self.num_numeric - 1, 0))
        if self.bins:
            value = torch.einsum("bkd,bkdt->bkt", h, self.num_weight[num_col]) + self.num_bias[num_col]
        else:
            value = (h * self.num_weight[num_col]).sum(-1) + self.num_bias[num_col]
        cat_col = position - self.num_numeric                                    # < 0: numeric
        logits = self.cat(h).masked_fill(self.class_owner != cat_col.unsqueeze(-1), float("-inf"))
        return value, logits

    def loss(self, h: Tensor, position: Tensor, weight: Tensor, batch: dict[str, Tensor]) -> Tensor:
        """The mean value loss over the tokens of ``weight > 0`` (MSE or cross-entropy each).

        Shapes:
            h ``[B, K, D]``, position, weight ``[B, K]`` -> a scalar.
        """
        value, logits = self(h.float(), position)
        is_num = position < self.num_numeric
        num_col = position.clamp(max=max(self.num_numeric - 1, 0))
        cat_col = (position - self.num_numeric).clamp_min(0)
        per_token = torch.zeros(position.shape, dtype=value.dtype, device=value.device)
        keep = weight > 0
        if self.num_numeric:
            missing = torch.gather(batch["num_missing"], 1, num_col)
            if self.bins:
                target = torch.gather(batch_bins(batch["num"], batch["num_missing"], self.bins), 1, num_col)
                num_loss = F.cross_entropy(value.flatten(0, 1), target.flatten(), reduction="none")
                num_loss = num_loss.view_as(per_token)
            else:
                num_loss = (value - torch.gather(batch["num"].float(), 1, num_col)) ** 2
            per_token = torch.where(is_num, num_loss, per_token)
            keep = keep & ~(is_num & missing)
        if logits.shape[-1] and (~is_num).any():
            cat = batch["cat"]
            safe_col = cat_col.clamp(max=max(cat.shape[1] - 1, 0))
            target = torch.gather(cat, 1, safe_col) + self.cat_offsets[safe_col]
            cat_logits = logits.masked_fill(is_num.unsqueeze(-1), 0.0)           # numeric rows: unused
            ce = F.cross_entropy(cat_logits.flatten(0, 1), target.flatten(), reduction="none")
            per_token = torch.where(is_num, per_token, ce.view_as(per_token))
        w = keep.to(per_token.dtype)
        return (per_token * w).sum() / w.sum().clamp_min(1.0)


class ValueTargetJEPA(JEPA):
    """The masked JEPA of :class:`~jepa_core.method.JEPA` plus the columns' value terms.

    Built by the masked method's ``build`` on a tabular tokenizer; the arguments are
    :class:`JEPA`'s, the terms' settings are ``cfg.method`` (a :class:`ValueTargetConfig`).
    """

    config_class = ValueTargetConfig

    def __init__(self, encoder: Encoder, predictor: Predictor, target: TargetProvider,
                 masker: Masker, objective: Objective, cfg: Config) -> None:
        super().__init__(encoder, predictor, target, masker, objective, cfg)
        method = cfg.method if isinstance(cfg.method, ValueTargetConfig) else ValueTargetConfig()
        for name in ("weight", "visible_weight"):
            if not getattr(method, name) >= 0:
                raise ConfigError(f"method.{name} must be >= 0, got {getattr(method, name)!r}")
        if method.numeric_target not in ("value", "bins"):
            raise ConfigError(f"method.numeric_target must be 'value' or 'bins', got {method.numeric_target!r}")
        if method.numeric_target == "bins" and method.bins < 2:
            raise ConfigError(f"method.bins must be at least 2, got {method.bins!r}")
        tokenizer = encoder.tokenizer
        if not hasattr(tokenizer, "cardinalities"):
            raise ConfigError(f"method.name=tabular_value reads table columns; the "
                              f"{type(tokenizer).__name__} tokenizer has none (use the tabular modality)")
        self.value_weight = float(method.weight)
        self.visible_weight = float(method.visible_weight)
        columns = (tokenizer.num_numeric, list(tokenizer.cardinalities),
                   method.bins if method.numeric_target == "bins" else 0)
        out_dim = target.out_dim or encoder.dim
        self.value_head = ColumnValueHead(out_dim, *columns) if self.value_weight > 0 else None
        self.visible_head = ColumnValueHead(encoder.dim, *columns) if self.visible_weight > 0 else None

    def forward(self, batch: dict[str, Tensor], sample_ids: Tensor, step: int) -> StepOutput:
        s = self.masked_step(batch, sample_ids, step)
        batch = s.batch  # the values the tokens were made from (augmented when training)
        if self.value_head is not None:
            b, m, kt = s.weight.shape
            term = self.value_head.loss(s.pred.reshape(b, m * kt, -1), s.masks.target_idx.reshape(b, m * kt),
                                        s.weight.reshape(b, m * kt), batch)
            s.loss = s.loss + self.value_weight * term
            s.parts["value"] = term.detach()
        if self.visible_head is not None:
            term = self.visible_head.loss(s.z_ctx, s.masks.context_idx, s.ctx_keep.to(s.z_ctx.dtype), batch)
            s.loss = s.loss + self.visible_weight * term
            s.parts["visible_value"] = term.detach()
        return s.output()
