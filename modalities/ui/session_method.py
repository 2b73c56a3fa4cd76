"""The ``ui_session`` method: masked event prediction plus a session-level latent target.

The session term is the core ``pooled_target`` method's
(:class:`~jepa_core.methods.pooled_target.PooledTargetJEPA`): from the mean of the context
encoder's valid context tokens, a small MLP head predicts the mean of the teacher's tokens
over every valid event of the whole session (the run's latent loss, or InfoNCE over the
batch's sessions with ``temperature > 0``), added with ``method.weight``. This method adds
what is particular to event sequences:

A second pooled target works per masked span: ``span_weight`` adds the latent loss
between the mean of the predictor's outputs over each span and the mean of the teacher's
tokens over it (the span's content as a whole rather than event by event), and
``token_weight`` scales the masked method's per-event latent loss (``0``: spans only).

With ``input_weight > 0`` a linear head on the predictor's output for each masked event
also predicts that event's input token (the tokenizer's output, gradients stopped):
the masked event's own content (its action, element, text, point), not only the
teacher's contextual view of it, must be inferred from the context.

Chosen with ``--set method.name=ui_session`` (``method.weight``, ``method.hidden``,
``method.normalize``, ...); the numbers are in ``benchmarks/results/ui_probe.md`` (Round 5).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from jepa_core.config import Config, ConfigError
from jepa_core.masking import Masker
from jepa_core.method import StepOutput
from jepa_core.methods.pooled_target import PooledTargetConfig, PooledTargetJEPA
from jepa_core.models import Encoder, Predictor
from jepa_core.ops import gather_tokens
from jepa_core.objectives import Objective
from jepa_core.targets import TargetProvider


@dataclass
class SessionMethodConfig(PooledTargetConfig):
    """Settings of the session term (:class:`PooledTargetConfig`: ``weight``, ``hidden``,
    ``normalize``, ``temperature``) and of the event terms.

    Args:
        span_weight: weight of the pooled-span term (``0``: off).
        token_weight: weight of the per-event latent loss of the masked method.
        input_weight: weight of the masked events' input-token term (``0``: off).
    """

    span_weight: float = 0.0
    token_weight: float = 1.0
    input_weight: float = 0.0


def span_means(pred: Tensor, target: Tensor, weight: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Each masked span's weighted mean prediction and target, and whether it has tokens.

    Shapes:
        pred, target ``[B, M, Kt, D]``, weight ``[B, M, Kt]`` -> ``[B, M, D]``, ``[B, M, D]``,
        ``[B, M]`` (1 where the span has a token of weight > 0).
    """
    w = weight.unsqueeze(-1)
    total = w.sum(2).clamp_min(1e-8)
    return (pred * w).sum(2) / total, (target * w).sum(2) / total, (weight.sum(2) > 0).to(weight.dtype)


def _rename_session_head(module: nn.Module, state_dict: dict, prefix: str, *args) -> None:
    """Runs saved before the session head became the core ``pooled_head`` named it
    ``session_head``: load those weights into it."""
    old = prefix + "session_head."
    for key in [k for k in state_dict if k.startswith(old)]:
        state_dict[prefix + "pooled_head." + key[len(old):]] = state_dict.pop(key)


class SessionJEPA(PooledTargetJEPA):
    """The pooled-target JEPA of :class:`PooledTargetJEPA` (the session term) plus the
    event terms.

    Built by the masked method's ``build``; the arguments are :class:`JEPA`'s, and the
    terms' settings are ``cfg.method`` (a :class:`SessionMethodConfig`).
    """

    config_class = SessionMethodConfig

    def __init__(self, encoder: Encoder, predictor: Predictor, target: TargetProvider,
                 masker: Masker, objective: Objective, cfg: Config) -> None:
        super().__init__(encoder, predictor, target, masker, objective, cfg)
        method = cfg.method if isinstance(cfg.method, SessionMethodConfig) else SessionMethodConfig()
        for name in ("span_weight", "token_weight", "input_weight"):
            if not getattr(method, name) >= 0:
                raise ConfigError(f"method.{name} must be >= 0, got {getattr(method, name)!r}")
        self.span_weight = float(method.span_weight)
        self.token_weight = float(method.token_weight)
        self.input_weight = float(method.input_weight)
        out_dim = target.out_dim or encoder.dim
        self.input_head = nn.Linear(out_dim, encoder.dim) if self.input_weight > 0 else None
        self.register_load_state_dict_pre_hook(_rename_session_head)

    def forward(self, batch, sample_ids: Tensor, step: int) -> StepOutput:
        s = self.masked_step(batch, sample_ids, step)
        self.add_pooled_term(s)
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
