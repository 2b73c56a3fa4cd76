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
from .models.predictor import create_predictor
from .objectives import Objective
from .objectives._distributed import masked_moments
from .objectives.weights import token_type_weights, type_weight_table
from .ops import gather_tokens
from .targets import TargetProvider, create_target


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


@dataclass
class MaskedStep:
    """The intermediate tensors of one masked step (see :meth:`JEPA.masked_step`).

    ``batch`` is the batch the tokens were made from: after the tokenizer's augmentation
    when training, so a term that reads the inputs sees what the encoder saw.

    Shapes:
        z_ctx ``[B, Kc, D]`` (context encoder output), ctx_keep ``[B, Kc]`` (valid context
        tokens), z_all ``[B, N, Dt]`` (every token's target, normalized as configured),
        z_tgt ``[B, M, Kt, Dt]``, pred ``[B, M, Kt, Dt]`` (the predictor's output),
        weight ``[B, M, Kt]``.
    """

    batch: Any
    tokens: Any
    masks: MaskSet
    z_ctx: Tensor
    ctx_keep: Tensor
    z_all: Tensor
    z_tgt: Tensor
    pred: Tensor
    weight: Tensor
    loss: Tensor
    parts: dict[str, Tensor]

    def output(self) -> StepOutput:
        """The :class:`StepOutput` of this step (targets detached)."""
        return StepOutput(loss=self.loss, parts=self.parts, target_embeddings=self.z_tgt.detach(),
                          target_weight=self.weight.detach(), masks=self.masks)


def standardize_per_position(z: Tensor, valid: Tensor, eps: float = 1e-4) -> Tensor:
    """Standardize each position's embedding dims over the global batch's valid tokens.

    Removes what every sample shares at a position (for tables: the feature's own
    constant), so the targets are what varies between samples. Under ``torchrun`` the
    statistics are those of the global batch, so the targets don't depend on the number
    of ranks. Sums are taken in float64: the shared constant can dwarf the variation.

    Shapes:
        z ``[B, N, D]``, valid ``[B, N]`` -> ``[B, N, D]``.
    """
    mean, var, _ = masked_moments(z, valid.unsqueeze(-1), dtype=torch.float64)
    return ((z.to(torch.float64) - mean) / (var.sqrt() + eps)).to(z.dtype)


class JEPA(nn.Module):
    """A joint-embedding predictive architecture around one modality's tokenizer.

    The ``masked`` training method (entry-point group ``jepa_core.methods``, chosen by
    ``method.name``): masked latent prediction, as in I-JEPA. A method class is built
    by ``cls.build(tokenizer, cfg, teacher)``.

    Args:
        encoder: the context encoder (trained).
        predictor: predicts target embeddings from the context.
        target: the target provider (EMA teacher, frozen teacher or none).
        masker: draws context/target index sets.
        objective: latent loss plus weighted regularizers.
        cfg: the run configuration (seed, target normalization, token-type weights).

    A batch without a grid (``tokens.layout is None``) is masked on ``TokenLayout((N,))``
    of its own padded length, checked against the masker batch by batch. The tokenizer's
    ``conditions`` go to the predictor and its ``types`` weight the latent loss by
    ``objective.type_weights``.
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
        table = type_weight_table(cfg.objective.type_weights, cfg.objective.empty_weight)
        self.register_buffer("type_weights", None if table is None else torch.tensor(table),
                             persistent=False)
        if encoder.layout is not None:  # without a grid: checked per batch in forward
            masker.check(encoder.layout)
        elif self.standardize_targets:
            raise ValueError("objective.standardize_targets standardizes each grid position over "
                             "the batch; this modality's tokens have no grid (layout None)")

    @classmethod
    def build(cls, tokenizer: Tokenizer, cfg: Config, teacher: Encoder | None = None) -> "JEPA":
        """Assemble a model from a tokenizer and a config (``teacher`` for ``frozen``).

        Each component is built from its own section: the pooling from ``pooling``, the
        target provider from ``target``, the predictor from ``predictor``, the masker
        from ``mask``.
        """
        encoder = Encoder(tokenizer, cfg.model, cfg.pooling)
        if cfg.model.init_hf:  # a transformers I-JEPA checkpoint, before the EMA teacher copies it
            from .export.hf_import import init_encoder_from_hf

            init_encoder_from_hf(encoder, cfg.model.init_hf)
        target = create_target(cfg.target, encoder, teacher)
        out_dim = target.out_dim or encoder.dim
        predictor = create_predictor(cfg.predictor, layout=encoder.layout, in_dim=encoder.dim,
                                     out_dim=out_dim, model=cfg.model,
                                     cond_dim=getattr(tokenizer, "condition_dim", 0))
        return cls(encoder, predictor, target, create_masker(cfg.mask), Objective.from_config(cfg.objective), cfg)

    @property
    def target_encoder(self) -> Encoder:
        """The encoder whose features are used downstream (teacher when there is one)."""
        return self.target.encoder if self.target.kind == "ema" else self.encoder

    def forward(self, batch: Any, sample_ids: Tensor, step: int) -> StepOutput:
        return self.masked_step(batch, sample_ids, step).output()

    def masked_step(self, batch: Any, sample_ids: Tensor, step: int) -> "MaskedStep":
        """One masked-prediction step, with what a subclass needs to add its own terms.

        :meth:`forward` returns its :meth:`MaskedStep.output`; a method that adds a loss
        term (e.g. on pooled embeddings) calls this, adds to ``loss`` and ``parts``, and
        returns the output.
        """
        if self.training:  # the tokenizer's augmentation (default: none), keyed by sample id
            batch = self.encoder.tokenizer.augment(batch, sample_ids, step, self.seed)
        tokens = self.encoder.tokenize(batch)
        b = tokens.batch_size
        layout = tokens.mask_layout
        if tokens.layout is None:
            self.masker.check(layout)
        elif self.encoder.layout is not None and tokens.layout != self.encoder.layout:  # the predictor's positions are the model grid's
            raise ValueError(f"a training batch on the token grid {tokens.layout.grid}, the model's is "
                             f"{self.encoder.layout.grid}: train at one input size (other sizes "
                             "are for embedding)")
        masks = self.masker(b, layout, seed=self.seed, step=step, sample_ids=sample_ids,
                            token_valid=tokens.valid, token_types=tokens.types,
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
                              masks.target_idx, masks.target_valid, tokens.conditions, tokens.coords)
        weight = masks.target_valid & torch.gather(tokens.valid, 1, flat_idx).view(b, m, kt)
        weight = weight.to(pred.dtype)
        if tokens.types is not None and self.type_weights is not None:
            types = torch.gather(tokens.types, 1, flat_idx).view(b, m, kt)
            weight = weight * token_type_weights(types, self.type_weights.to(weight.dtype))

        ctx_keep = masks.context_valid & torch.gather(tokens.valid, 1, masks.context_idx)
        # the regularizers take a row mask, not z_ctx[ctx_keep], which would wait for the device
        loss, parts = self.objective.terms(pred.float(), z_tgt.float(), weight.float(),
                                           z_ctx.reshape(-1, z_ctx.shape[-1]).float(), seed=self.seed,
                                           step=step, embedding_mask=ctx_keep.reshape(-1))
        return MaskedStep(batch=batch, tokens=tokens, masks=masks, z_ctx=z_ctx, ctx_keep=ctx_keep, z_all=z_all,
                          z_tgt=z_tgt, pred=pred, weight=weight, loss=loss, parts=parts)
