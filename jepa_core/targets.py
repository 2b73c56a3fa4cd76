"""Target providers: where the embeddings the predictor must match come from.

- ``ema``: an exponential-moving-average copy of the context encoder (I-JEPA, V-JEPA),
  momentum following a linear schedule over the run;
- ``frozen``: a teacher encoder loaded from another run and never updated (SALT);
- ``none``: teacher-free; the context encoder itself, with gradients, kept from
  collapsing by a regularizer such as SIGReg (LeJEPA, LeWorldModel).

Target providers are components (entry-point group ``jepa_core.targets``) chosen by
``target.kind``; a registered class is built as ``cls(student, teacher)``.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn
from torch.distributed.tensor import DTensor

from .models import Encoder
from .tokens import TokenBatch

#: The kinds :class:`TargetProvider` itself implements (the built-ins).
KINDS = ("ema", "frozen", "none")


def ema_momentum(step: int, total_steps: int, start: float, end: float) -> float:
    """Momentum at ``step``: linear from ``start`` to ``end`` over ``total_steps``.

    Examples:
        >>> ema_momentum(50, 100, 0.996, 1.0)
        0.998
    """
    frac = min(max(step / max(total_steps, 1), 0.0), 1.0)
    return round(start + (end - start) * frac, 12)


def _local(p: Tensor) -> Tensor:
    """This rank's shard of an FSDP2 (DTensor) parameter; a plain tensor as is."""
    return p.to_local() if isinstance(p, DTensor) else p


class TargetProvider(nn.Module):
    """Holds (or points to) the target encoder and produces target embeddings.

    Args:
        kind: ``ema``, ``frozen`` or ``none``.
        student: the context encoder (copied for ``ema``; used directly for ``none``).
        teacher: the loaded teacher encoder for ``frozen``.
    """

    def __init__(self, kind: str, student: Encoder, teacher: Encoder | None = None) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"TargetProvider implements target.kind {KINDS}, got {kind!r} "
                             "(a registered provider subclasses it; see create_target)")
        self.kind = kind
        if kind == "ema":
            teacher = copy.deepcopy(student)
        elif kind == "frozen" and teacher is None:
            raise ValueError("target.kind='frozen' needs a teacher encoder (target.frozen_run)")
        if teacher is not None:
            teacher.requires_grad_(False)
            teacher.eval()
        self.encoder = teacher  # None for 'none': the student is passed at call time

    @property
    def out_dim(self) -> int | None:
        return None if self.encoder is None else self.encoder.dim

    def forward(self, batch, student: Encoder, student_tokens: TokenBatch) -> Tensor:
        """Target embeddings of every token, ``[B, N, D]``; no gradient unless ``none``."""
        if self.encoder is None:
            return student(student_tokens)
        with torch.no_grad():
            return self.encoder(self.encoder.tokenize(batch))

    @torch.no_grad()
    def update(self, student: Encoder, momentum: float) -> None:
        """EMA step ``teacher = m * teacher + (1 - m) * student``; no-op unless ``ema``.

        Under FSDP2 both encoders are sharded alike (``Shard(0)`` on the same mesh), so the
        update runs on each rank's local shards, with no communication.
        """
        if self.kind != "ema":
            return
        t_params = [_local(p) for p in self.encoder.parameters()]
        s_params = [_local(p.detach()) for p in student.parameters()]
        if [p.shape for p in t_params] != [p.shape for p in s_params]:
            raise RuntimeError("the EMA teacher and the student are not sharded alike; shard both "
                               "with jepa_core.train.parallel.shard_model")
        torch._foreach_lerp_(t_params, s_params, 1.0 - momentum)

    def train(self, mode: bool = True) -> "TargetProvider":
        super().train(mode)
        if self.encoder is not None:
            self.encoder.eval()
        return self


class EmaTarget(TargetProvider):
    """``target.kind: ema``: an EMA copy of the student (I-JEPA, V-JEPA)."""

    def __init__(self, student: Encoder, teacher: Encoder | None = None) -> None:
        super().__init__("ema", student)


class FrozenTarget(TargetProvider):
    """``target.kind: frozen``: a teacher encoder from another run, never updated (SALT)."""

    def __init__(self, student: Encoder, teacher: Encoder | None = None) -> None:
        super().__init__("frozen", student, teacher)


class NoTarget(TargetProvider):
    """``target.kind: none``: teacher-free; the student's own features, with gradient."""

    def __init__(self, student: Encoder, teacher: Encoder | None = None) -> None:
        super().__init__("none", student)


def create_target(kind: str, student: Encoder, teacher: Encoder | None = None) -> TargetProvider:
    """The registered target provider ``kind`` (``target.kind``) around ``student``.

    Raises:
        jepa_core.registry.UnknownComponentError: ``kind`` is not registered (naming
            those that are) or its plugin failed to load.
    """
    from .registry import get_registry

    return get_registry("target").get(kind)(student, teacher)
