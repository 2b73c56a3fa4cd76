"""The ``world`` method: an action-conditioned latent world model (V-JEPA 2-AC, LeWorldModel).

A training sample is a window of ``W = history + horizon`` frames and the action taken
at each. Each frame is encoded to one latent ``z[t]`` (the tokenizer's one token per
frame); the action-conditioned predictor (:class:`~jepa_core.models.ActionPredictor`) is
trained with two terms, as in V-JEPA 2-AC:

- teacher forcing: from the true latents ``z[<= t]`` and actions ``a[<= t]`` predict
  ``z[t + 1]``, for every ``t`` at once (block-causal attention);
- rollout: from the ``history`` first latents, predict the next ``horizon`` open-loop,
  each prediction fed back as the next input.

Targets come from ``target.kind``: ``none`` (the default, LeWorldModel) uses the context
encoder's own latents, with gradient, kept from collapsing by SIGReg on every frame's
latent (``objective.sigreg``); ``ema`` or ``frozen`` take them from a teacher, without
gradient. The tokenizer must give one token per frame (layout ``(W,)``) with the actions
as ``conditions [B, W, A]``, and provide ``encode_frames(frames) -> [N, D]`` (used to
encode single observations when planning) and ``history`` (frames of context).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..config import ComponentConfig, Config, ConfigError, from_dict
from ..method import JEPA, StepOutput
from ..modality import Tokenizer
from ..models.action_predictor import ActionPredictor, ActionPredictorConfig
from ..objectives import Objective
from ..targets import create_target


@dataclass
class WorldMethodConfig(ComponentConfig):
    """Weights of the ``world`` method's two prediction terms.

    Args:
        teacher_forcing: weight of the one-step teacher-forced term.
        rollout: weight of the multi-step open-loop rollout term.
        smoothness: weight of a temporal-similarity term, the mean squared distance
            between consecutive frames' latents (PLDM's and eb_jepa's ``sim_t``): with
            SIGReg keeping the latents spread, it pulls the frames of a path close
            together, so latent distance grows with the distance travelled instead of
            folding the state manifold; ``0`` disables it.
    """

    teacher_forcing: float = 1.0
    rollout: float = 1.0
    smoothness: float = 0.0


class FrameEncoder(nn.Module):
    """A tokenizer that embeds each frame alone, as an encoder: frames in, one latent each.

    Args:
        tokenizer: gives ``[B, W, D]`` tokens (one per frame) and ``encode_frames``.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.dim = tokenizer.dim
        self.layout = tokenizer.layout

    def tokenize(self, batch: Any):
        return self.tokenizer(batch)

    def forward(self, tokens) -> Tensor:
        """The per-frame latents of a TokenBatch, ``[B, W, D]``."""
        return tokens.tokens

    def encode_frames(self, frames: Tensor) -> Tensor:
        """Latents of single frames: ``[N, *frame] -> [N, D]``."""
        return self.tokenizer.encode_frames(frames)

    def pooled_features(self, batch: Any) -> Tensor:
        """One vector per window: the mean of its frame latents, ``[B, D]``."""
        return self.tokenizer(batch).tokens.mean(dim=1)

    def token_features(self, batch: Any) -> tuple[Tensor, Tensor]:
        tokens = self.tokenizer(batch)
        return tokens.tokens, tokens.valid


def predictor_config(cfg: Config) -> ActionPredictorConfig:
    """The ``action`` predictor's settings: the run config's ``predictor`` section.

    Raises:
        ConfigError: the section names another predictor (the world method needs one
            that takes per-frame actions).
    """
    if not isinstance(cfg.predictor, ActionPredictorConfig):
        raise ConfigError(f"method.name=world trains the action-conditioned predictor: set "
                          f"predictor.name=action (got predictor.name={cfg.predictor.name!r})")
    return cfg.predictor


class WorldModel(JEPA):
    """Frame encoder + action-conditioned predictor + target provider + objective.

    Args:
        encoder: the frame encoder (trained end to end).
        predictor: the action-conditioned predictor.
        target: ``none`` (teacher-free), ``ema`` or ``frozen``.
        objective: the latent term plus regularizers (SIGReg by default).
        history: context frames before the rollout.
        method: the two terms' weights.
        seed: the run seed (SIGReg's slices).
    """

    config_class = WorldMethodConfig

    def __init__(self, encoder: FrameEncoder, predictor: ActionPredictor, target, objective: Objective,
                 history: int, method: WorldMethodConfig, seed: int = 0) -> None:
        nn.Module.__init__(self)  # not the masked method's masker checks
        self.encoder, self.predictor, self.target, self.objective = encoder, predictor, target, objective
        self.history = int(history)
        self.weights = method
        self.seed = seed
        self.action_width = predictor.action_width

    @classmethod
    def build(cls, tokenizer: Tokenizer, cfg: Config, teacher=None) -> "WorldModel":
        layout = getattr(tokenizer, "layout", None)
        width = int(getattr(tokenizer, "condition_dim", 0) or 0)
        if layout is None or layout.ndim != 1 or width < 1 or not hasattr(tokenizer, "encode_frames"):
            raise ConfigError(f"method.name=world needs a tokenizer with one token per frame (layout "
                              f"(W,)), actions as conditions (condition_dim > 0) and encode_frames; "
                              f"{type(tokenizer).__name__} is not one (use modality 'world')")
        window = layout.grid[0]
        history = int(getattr(tokenizer, "history", 1))
        if not 1 <= history < window:
            raise ConfigError(f"the world method needs 1 <= history < window; got history {history}, "
                              f"window {window}")
        encoder = FrameEncoder(tokenizer)
        target = create_target(cfg.target.kind, encoder, teacher)
        predictor = ActionPredictor(encoder.dim, width, window - 1, predictor_config(cfg))
        method = cfg.method if isinstance(cfg.method, WorldMethodConfig) else WorldMethodConfig()
        return cls(encoder, predictor, target, Objective.from_config(cfg.objective), history, method,
                   cfg.optim.seed)

    @property
    def target_encoder(self) -> FrameEncoder:
        return self.target.encoder if self.target.kind == "ema" else self.encoder

    def encode(self, frames: Tensor) -> Tensor:
        """Latents of observations ``[..., *frame] -> [..., D]`` (the context encoder's)."""
        lead = frames.shape[:frames.dim() - len(self.encoder.tokenizer.frame_shape)]
        flat = frames.reshape(-1, *frames.shape[len(lead):])
        return self.encoder.encode_frames(flat).reshape(*lead, -1)

    def rollout(self, z_history: Tensor, actions: Tensor) -> Tensor:
        """Open-loop latents after the history (see :meth:`ActionPredictor.rollout`)."""
        return self.predictor.rollout(z_history, actions)

    def forward(self, batch: Any, sample_ids: Tensor, step: int) -> StepOutput:
        tokens = self.encoder.tokenize(batch)
        z = tokens.tokens  # [B, W, D]
        actions = tokens.conditions
        if self.target.encoder is None:
            z_tgt = z
        else:
            with torch.no_grad():
                z_tgt = self.target.encoder.tokenize(batch).tokens
        b, w, d = z.shape
        h = self.history
        tf_pred = self.predictor(z[:, :-1], actions[:, :-1])  # [B, W-1, D]: frames 1..W-1
        parts_pred, parts_tgt, parts_w = [tf_pred], [z_tgt[:, 1:]], [
            torch.full((b, w - 1), self.weights.teacher_forcing, device=z.device)]
        if self.weights.rollout > 0:
            ro_pred = self.predictor.rollout(z[:, :h], actions[:, :w - 1])  # frames h..W-1
            parts_pred.append(ro_pred)
            parts_tgt.append(z_tgt[:, h:])
            parts_w.append(torch.full((b, w - h), self.weights.rollout, device=z.device))
        pred = torch.cat(parts_pred, 1)
        tgt = torch.cat(parts_tgt, 1)
        weight = torch.cat(parts_w, 1)
        loss, parts = self.objective.terms(pred.float(), tgt.float(), weight.float(),
                                           z.reshape(-1, d).float(), seed=self.seed, step=step)
        if self.weights.smoothness > 0:
            smooth = (z[:, 1:] - z[:, :-1]).float().pow(2).sum(-1).mean()
            loss = loss + self.weights.smoothness * smooth
            parts["smoothness"] = smooth.detach()
        with torch.no_grad():
            parts["rollout_l2"] = F.mse_loss(pred[:, w - 1:], tgt[:, w - 1:]) if self.weights.rollout > 0 \
                else F.mse_loss(tf_pred, z_tgt[:, 1:])
        target_embeddings = z_tgt.detach().reshape(b, 1, w, d)
        return StepOutput(loss=loss, parts=parts, target_embeddings=target_embeddings,
                          target_weight=torch.ones(b, 1, w, device=z.device), masks=None)
