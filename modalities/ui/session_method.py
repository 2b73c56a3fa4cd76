"""The ``ui_session`` method: masked event prediction plus a session-level latent target.

The ``masked`` method predicts the teacher's tokens of the masked events from the context
events. This method adds one global term, as in BYOL- and data2vec-style global targets:
from the mean of the context encoder's valid context tokens, a small MLP head predicts
the mean of the teacher's tokens over every valid event of the whole session (the
teacher sees the full session, the student only its context). The term is scored with
the run's latent loss (``objective.loss``) and added with ``method.weight``:

``total = masked JEPA loss + weight * latent(head(mean(z_ctx)), mean(z_teacher))``

A second, optional pooled target works per masked span: ``span_weight`` adds the latent
loss between the mean of the predictor's outputs over each span and the mean of the
teacher's tokens over it (the span's content as a whole rather than event by event), and
``token_weight`` scales the masked method's per-event latent loss (``0``: spans only).

With ``temperature > 0`` the session term is contrastive instead (InfoNCE, as in
SimCLR/MoCo with an EMA teacher): the cosine similarities of each session's head output
to the pooled teacher targets of every session of the batch, over the temperature, are
scored by cross-entropy against its own session; the other sessions of the batch (of
this process) are the negatives.

With ``input_weight > 0`` a linear head on the predictor's output for each masked event
also predicts that event's input token (the tokenizer's output, gradients stopped):
the masked event's own content (its action, element, text, point), not only the
teacher's contextual view of it, must be inferred from the context.

Chosen with ``--set method.name=ui_session`` (``method.weight``, ``method.hidden``,
``method.normalize``); the numbers are in ``benchmarks/results/ui_probe.md`` (Round 5).
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
from jepa_core.models.pooling import valid_mean
from jepa_core.ops import gather_tokens
from jepa_core.objectives import Objective
from jepa_core.targets import TargetProvider


@dataclass
class SessionMethodConfig(ComponentConfig):
    """Settings of the session-level term.

    Args:
        weight: weight of the session term against the masked-token loss (``0``: the
            ``masked`` method's loss alone).
        hidden: width of the head's hidden layer (``0``: twice the encoder width).
        normalize: layer-normalize the pooled teacher target (as the token targets are
            with ``objective.normalize_targets``), so its scale does not depend on how
            much the tokens of a session agree.
        span_weight: weight of the pooled-span term (``0``: off).
        token_weight: weight of the per-event latent loss of the masked method.
        temperature: ``> 0``: the session term is InfoNCE over the batch's sessions with
            this temperature; ``0``: the run's latent loss.
        input_weight: weight of the masked events' input-token term (``0``: off).
    """

    weight: float = 1.0
    hidden: int = 0
    normalize: bool = True
    span_weight: float = 0.0
    token_weight: float = 1.0
    temperature: float = 0.0
    input_weight: float = 0.0


def info_nce(pred: Tensor, target: Tensor, temperature: float) -> Tensor:
    """Cross-entropy of each row of ``pred`` picking its own row of ``target`` among all
    rows, by cosine similarity over ``temperature``.

    Shapes:
        pred, target ``[B, D]`` -> a scalar.

    Examples:
        >>> x = torch.eye(3)
        >>> bool(info_nce(x, x, 0.1) < info_nce(x, x.roll(1, 0), 0.1))
        True
    """
    logits = F.normalize(pred, dim=-1) @ F.normalize(target, dim=-1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(pred), device=pred.device))


def span_means(pred: Tensor, target: Tensor, weight: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Each masked span's weighted mean prediction and target, and whether it has tokens.

    Shapes:
        pred, target ``[B, M, Kt, D]``, weight ``[B, M, Kt]`` -> ``[B, M, D]``, ``[B, M, D]``,
        ``[B, M]`` (1 where the span has a token of weight > 0).
    """
    w = weight.unsqueeze(-1)
    total = w.sum(2).clamp_min(1e-8)
    return (pred * w).sum(2) / total, (target * w).sum(2) / total, (weight.sum(2) > 0).to(weight.dtype)


class SessionHead(nn.Module):
    """A two-layer MLP from the pooled context to the pooled session target.

    Args:
        in_dim: the context encoder's width.
        out_dim: the target's width.
        hidden: the hidden width.
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(in_dim), nn.Linear(in_dim, hidden), nn.GELU(),
                                 nn.Linear(hidden, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class SessionJEPA(JEPA):
    """The masked JEPA of :class:`~jepa_core.method.JEPA` plus the session term.

    Built by the masked method's ``build``; the arguments are :class:`JEPA`'s, and the
    session term's settings are ``cfg.method`` (a :class:`SessionMethodConfig`).
    """

    config_class = SessionMethodConfig

    def __init__(self, encoder: Encoder, predictor: Predictor, target: TargetProvider,
                 masker: Masker, objective: Objective, cfg: Config) -> None:
        super().__init__(encoder, predictor, target, masker, objective, cfg)
        method = cfg.method if isinstance(cfg.method, SessionMethodConfig) else SessionMethodConfig()
        for name in ("weight", "span_weight", "token_weight", "temperature", "input_weight"):
            if not getattr(method, name) >= 0:
                raise ConfigError(f"method.{name} must be >= 0, got {getattr(method, name)!r}")
        if method.hidden < 0:
            raise ConfigError(f"method.hidden must be >= 0, got {method.hidden!r}")
        out_dim = target.out_dim or encoder.dim
        self.session_weight = float(method.weight)
        self.session_normalize = bool(method.normalize)
        self.span_weight = float(method.span_weight)
        self.token_weight = float(method.token_weight)
        self.temperature = float(method.temperature)
        self.session_head = SessionHead(encoder.dim, out_dim, method.hidden or 2 * encoder.dim)
        self.input_weight = float(method.input_weight)
        self.input_head = nn.Linear(out_dim, encoder.dim) if self.input_weight > 0 else None

    def forward(self, batch, sample_ids: Tensor, step: int) -> StepOutput:
        s = self.masked_step(batch, sample_ids, step)
        pred = self.session_head(valid_mean(s.z_ctx, s.ctx_keep))
        target = valid_mean(s.z_all.detach(), s.tokens.valid)
        if self.session_normalize:
            target = F.layer_norm(target, target.shape[-1:])
        if self.temperature > 0:
            term = info_nce(pred.float(), target.float(), self.temperature)
        else:
            term = self.objective.latent(pred.float(), target.float(), sync=self.objective.sync)
        s.loss = s.loss + self.session_weight * term
        s.parts["session"] = term.detach()
        if self.token_weight != 1.0:  # the masked loss holds the per-event term with weight 1
            s.loss = s.loss + (self.token_weight - 1.0) * self.objective.latent(
                s.pred.float(), s.z_tgt.float(), s.weight.float(), sync=self.objective.sync)
        if self.span_weight > 0:
            span = self.objective.latent(*span_means(s.pred.float(), s.z_tgt.float(), s.weight.float()),
                                         sync=self.objective.sync)
            s.loss = s.loss + self.span_weight * span
            s.parts["span"] = span.detach()
        if self.input_head is not None:
            b, m, kt = s.weight.shape
            flat = s.masks.target_idx.reshape(b, m * kt)
            inputs = gather_tokens(s.tokens.tokens.detach(), flat).view(b, m, kt, -1)
            term = self.objective.latent(self.input_head(s.pred).float(), inputs.float(), s.weight.float(),
                                         sync=self.objective.sync)
            s.loss = s.loss + self.input_weight * term
            s.parts["input"] = term.detach()
        return s.output()
