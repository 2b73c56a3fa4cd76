"""JEPA: ties a modality's tokenizer, the masker, encoders, predictor and objective.

One training step, as in DESIGN.md: tokenize, draw masks (counter-based, keyed by the
global sample ids), encode the context, produce targets, predict the target embeddings
from the context and score them with the latent objective plus regularizers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import Config
from .masking import Masker, MaskSet, create_masker
from .modality import Tokenizer
from .models import Encoder, Predictor
from .objectives import Objective
from .objectives._distributed import global_sum
from .ops import gather_tokens
from .targets import TargetProvider


@dataclass
class StepOutput:
    """What one forward pass returns: the loss, its parts, and targets for the monitors.

    Everything stays on the device: ``parts`` are detached 0-d tensors (read them when
    logging), and the monitors' targets are selected only when asked for.

    Shapes:
        target_embeddings ``[B, M, Kt, D]`` (detached), target_weight ``[B, M, Kt]``.
    """

    loss: Tensor
    parts: dict[str, Tensor]
    target_embeddings: Tensor
    target_weight: Tensor
    masks: MaskSet

    @property
    def targets(self) -> Tensor:
        """``[n, D]`` target embeddings of the tokens with weight > 0 (waits for the device)."""
        return self.target_embeddings[self.target_weight > 0]


def standardize_per_position(z: Tensor, valid: Tensor, eps: float = 1e-4) -> Tensor:
    """Standardize each position's embedding dims over the global batch's valid tokens.

    Removes what every sample shares at a position (for tables: the feature's own
    constant), so the targets are what varies between samples. Under ``torchrun`` the
    statistics are those of the global batch, so the targets don't depend on the number
    of ranks. Sums are taken in float64: the shared constant can dwarf the variation.

    Shapes:
        z ``[B, N, D]``, valid ``[B, N]`` -> ``[B, N, D]``.
    """
    w = valid.to(torch.float64).unsqueeze(-1)
    z64 = z.to(torch.float64)
    n = global_sum(w.sum(0)).clamp_min(1.0)
    mean = global_sum((z64 * w).sum(0)) / n
    var = (global_sum((z64.square() * w).sum(0)) - n * mean.square()).clamp_min(0.0) / (n - 1).clamp_min(1.0)
    return ((z64 - mean) / (var.sqrt() + eps)).to(z.dtype)


class JEPA(nn.Module):
    """A joint-embedding predictive architecture around one modality's tokenizer.

    Args:
        encoder: the context encoder (trained).
        predictor: predicts target embeddings from the context.
        target: the target provider (EMA teacher, frozen teacher or none).
        masker: draws context/target index sets.
        objective: latent loss plus weighted regularizers.
        cfg: the run configuration (seed, target normalization, empty-cell weight).
    """

    def __init__(self, encoder: Encoder, predictor: Predictor, target: TargetProvider,
                 masker: Masker, objective: Objective, cfg: Config) -> None:
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor
        self.target = target
        self.masker = masker
        self.objective = objective
        self.seed = cfg.optim.seed
        self.normalize_targets = cfg.objective.normalize_targets
        self.standardize_targets = cfg.objective.standardize_targets
        self.empty_weight = cfg.objective.empty_weight
        masker.check(encoder.layout)

    @classmethod
    def build(cls, tokenizer: Tokenizer, cfg: Config, teacher: Encoder | None = None) -> "JEPA":
        """Assemble a model from a tokenizer and a config (``teacher`` for ``frozen``)."""
        encoder = Encoder(tokenizer, cfg.model)
        target = TargetProvider(cfg.target.kind, encoder, teacher)
        out_dim = target.out_dim or encoder.dim
        predictor = Predictor(encoder.layout, encoder.dim, out_dim, cfg.model)
        return cls(encoder, predictor, target, create_masker(cfg.mask), Objective.from_config(cfg.objective), cfg)

    @property
    def target_encoder(self) -> Encoder:
        """The encoder whose features are used downstream (teacher when there is one)."""
        return self.target.encoder if self.target.kind == "ema" else self.encoder

    def forward(self, batch: Any, sample_ids: Tensor, step: int, cond: Tensor | None = None) -> StepOutput:
        tokens = self.encoder.tokenize(batch)
        b = tokens.batch_size
        masks = self.masker(b, tokens.layout, seed=self.seed, step=step, sample_ids=sample_ids,
                            token_valid=tokens.valid, token_empty=tokens.empty,
                            device=tokens.tokens.device)
        z_ctx = self.encoder(tokens, masks.context_idx, masks.context_valid)

        z_all = self.target(batch, self.encoder, tokens)
        if self.normalize_targets:
            z_all = F.layer_norm(z_all, z_all.shape[-1:])
        if self.standardize_targets:
            z_all = standardize_per_position(z_all, tokens.valid)
        m, kt = masks.target_idx.shape[1:]
        flat_idx = masks.target_idx.reshape(b, m * kt)
        z_tgt = gather_tokens(z_all, flat_idx).view(b, m, kt, -1)

        pred = self.predictor(z_ctx, masks.context_idx, masks.context_valid,
                              masks.target_idx, masks.target_valid, cond)
        weight = masks.target_valid & torch.gather(tokens.valid, 1, flat_idx).view(b, m, kt)
        weight = weight.to(pred.dtype)
        if tokens.empty is not None and self.empty_weight != 1.0:
            empty = torch.gather(tokens.empty, 1, flat_idx).view(b, m, kt)
            weight = weight * torch.where(empty, self.empty_weight, 1.0).to(weight.dtype)

        ctx_keep = masks.context_valid & torch.gather(tokens.valid, 1, masks.context_idx)
        # the regularizers take a row mask, not z_ctx[ctx_keep], which would wait for the device
        loss, parts = self.objective.terms(pred.float(), z_tgt.float(), weight.float(),
                                           z_ctx.reshape(-1, z_ctx.shape[-1]).float(), seed=self.seed,
                                           step=step, embedding_mask=ctx_keep.reshape(-1))
        return StepOutput(loss=loss, parts=parts, target_embeddings=z_tgt.detach(),
                          target_weight=weight.detach(), masks=masks)
