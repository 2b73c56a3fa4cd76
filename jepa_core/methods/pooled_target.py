"""The ``pooled_target`` method: masked latent prediction plus a sample-level pooled target.

The ``masked`` method predicts the teacher's tokens of the masked positions from the
context, token by token: each target describes one position in the context of its sample.
This method adds one global term, as in BYOL- and data2vec-style global targets: from the
mean of the context encoder's valid context tokens, a small MLP head predicts the mean of
the teacher's tokens over every valid token of the whole sample (the teacher sees all of
it, the student only its context). The pooled context must then carry what the sample is
as a whole (a table row, a session), not only what each visible token is:

``total = masked JEPA loss + weight * latent(head(mean(z_ctx)), mean(z_teacher))``

With ``target: masked`` the pooled target is the mean of the teacher's tokens over the
masked positions only: the pooled context must then say what the hidden part is as a
whole (with a masker that hides a sample's end, how the sample ends).

The term is scored with the run's latent loss (``objective.loss``). With
``temperature > 0`` it is contrastive instead (InfoNCE, as in SimCLR/MoCo with an EMA
teacher): each sample's head output must pick its own pooled target, by cosine
similarity over the temperature, among those of every sample of the batch (of this
process).

Any modality can use it: ``--set method.name=pooled_target`` (``method.weight``,
``method.hidden``, ``method.normalize``, ``method.temperature``, ``method.target``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ComponentConfig, Config, ConfigError
from ..masking import Masker
from ..method import JEPA, MaskedStep, StepOutput
from ..models import Encoder, Predictor
from ..models.pooling import valid_mean
from ..objectives import Objective
from ..targets import TargetProvider


@dataclass
class PooledTargetConfig(ComponentConfig):
    """Settings of the pooled term.

    Args:
        weight: weight of the pooled term against the masked-token loss (``0``: the
            ``masked`` method's loss alone).
        hidden: width of the head's hidden layer (``0``: twice the encoder width).
        normalize: layer-normalize the pooled teacher target, so its scale does not
            depend on how much the tokens of a sample agree.
        temperature: ``> 0``: the term is InfoNCE over the batch's samples with this
            temperature; ``0``: the run's latent loss.
        target: ``all``: the teacher's mean over every valid token of the sample;
            ``masked``: over the masked (target) tokens only.
    """

    weight: float = 1.0
    hidden: int = 0
    normalize: bool = True
    temperature: float = 0.0
    target: str = "all"


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


class PooledHead(nn.Module):
    """A two-layer MLP from the pooled context to the pooled target.

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


class PooledTargetJEPA(JEPA):
    """The masked JEPA of :class:`~jepa_core.method.JEPA` plus the pooled term.

    Built by the masked method's ``build``; the arguments are :class:`JEPA`'s, the term's
    settings are ``cfg.method`` (a :class:`PooledTargetConfig`). A subclass that adds
    terms of its own calls :meth:`add_pooled_term` on its :class:`MaskedStep`.
    """

    config_class = PooledTargetConfig

    def __init__(self, encoder: Encoder, predictor: Predictor, target: TargetProvider,
                 masker: Masker, objective: Objective, cfg: Config) -> None:
        super().__init__(encoder, predictor, target, masker, objective, cfg)
        method = cfg.method if isinstance(cfg.method, PooledTargetConfig) else self.config_class()
        for name in ("weight", "temperature"):
            if not getattr(method, name) >= 0:
                raise ConfigError(f"method.{name} must be >= 0, got {getattr(method, name)!r}")
        if method.hidden < 0:
            raise ConfigError(f"method.hidden must be >= 0, got {method.hidden!r}")
        if method.target not in ("all", "masked"):
            raise ConfigError(f"method.target must be 'all' or 'masked', got {method.target!r}")
        self.pooled_over = method.target
        self.pooled_weight = float(method.weight)
        self.pooled_normalize = bool(method.normalize)
        self.temperature = float(method.temperature)
        self.pooled_head = PooledHead(encoder.dim, target.out_dim or encoder.dim,
                                      method.hidden or 2 * encoder.dim)

    def pooled_prediction(self, s: MaskedStep) -> tuple[Tensor, Tensor]:
        """The head's prediction from the pooled context and the pooled teacher target.

        Shapes:
            -> ``[B, Dt]``, ``[B, Dt]`` (the target detached).
        """
        pred = self.pooled_head(valid_mean(s.z_ctx, s.ctx_keep))
        if self.pooled_over == "masked":
            w = s.weight.detach().flatten(1).unsqueeze(-1)
            target = (s.z_tgt.detach().flatten(1, 2) * w).sum(1) / w.sum(1).clamp_min(1e-8)
        else:
            target = valid_mean(s.z_all.detach(), s.tokens.valid)
        if self.pooled_normalize:
            target = F.layer_norm(target, target.shape[-1:])
        return pred, target

    def add_pooled_term(self, s: MaskedStep) -> None:
        """Add ``weight`` times the pooled term to ``s.loss``, and the term to ``s.parts["pooled"]``."""
        pred, target = self.pooled_prediction(s)
        if self.temperature > 0:
            term = info_nce(pred.float(), target.float(), self.temperature)
        else:
            term = self.objective.latent(pred.float(), target.float(), sync=self.objective.sync)
        s.loss = s.loss + self.pooled_weight * term
        s.parts["pooled"] = term.detach()

    def forward(self, batch, sample_ids: Tensor, step: int) -> StepOutput:
        s = self.masked_step(batch, sample_ids, step)
        self.add_pooled_term(s)
        return s.output()
