"""Target providers: where the embeddings the predictor must match come from.

- ``ema``: an exponential-moving-average copy of the context encoder (I-JEPA, V-JEPA),
  momentum following a linear schedule over the run;
- ``frozen``: a teacher encoder loaded from another run and never updated (SALT);
- ``none``: teacher-free; the context encoder itself, with gradients, kept from
  collapsing by a regularizer such as SIGReg (LeJEPA, LeWorldModel).

Target providers are components (entry-point group ``jepa_core.targets``) chosen by
``target.kind``. Each declares its ``target:`` section as ``config_class``, a
:class:`~jepa_core.config.TargetConfig` dataclass (``ema``: ``momentum``; ``frozen``:
``frozen_run``, ``frozen_hf``; ``none``: nothing), and is built by
:meth:`TargetProvider.from_config` as ``cls(student, teacher, **fields)``.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.distributed.tensor import DTensor

from .config import TargetConfig
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


@dataclass
class EmaTargetConfig(TargetConfig):
    """``target:`` section of ``ema``: the momentum goes linearly from ``momentum[0]`` to
    ``momentum[1]`` over the run (:func:`ema_momentum`)."""

    kind: str = "ema"
    momentum: tuple[float, float] = (0.996, 1.0)


@dataclass
class FrozenTargetConfig(TargetConfig):
    """``target:`` section of ``frozen``: where the teacher comes from, one of
    ``frozen_run`` (the directory of a ``jepa pretrain`` run of the same modality) and
    ``frozen_hf`` (a Hugging Face I-JEPA checkpoint: a hub id or a local folder)."""

    kind: str = "frozen"
    frozen_run: str | None = None
    frozen_hf: str | None = None


class TargetProvider(nn.Module):
    """Holds (or points to) the target encoder and produces target embeddings.

    A registered provider subclasses this one: it sets ``config_class`` (its
    ``target:`` section, a :class:`~jepa_core.config.TargetConfig` dataclass) and takes
    the fields of that section as keyword arguments after ``student`` and ``teacher``.

    Args:
        kind: ``ema``, ``frozen`` or ``none``.
        student: the context encoder (copied for ``ema``; used directly for ``none``).
        teacher: the loaded teacher encoder for ``frozen``.
        momentum: ``ema``'s momentum schedule ``(start, end)``.
    """

    config_class: ClassVar[type[TargetConfig]] = TargetConfig

    def __init__(self, kind: str, student: Encoder, teacher: Encoder | None = None,
                 momentum: tuple[float, float] = (0.996, 1.0)) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"TargetProvider implements target.kind {KINDS}, got {kind!r} "
                             "(a registered provider subclasses it; see create_target)")
        self.kind = kind
        self.momentum = (float(momentum[0]), float(momentum[1]))
        if kind == "ema":
            teacher = copy.deepcopy(student)
        elif kind == "frozen" and teacher is None:
            raise ValueError("target.kind='frozen' needs a teacher encoder: set target.frozen_run "
                             "(a run directory) or target.frozen_hf (a Hugging Face checkpoint)")
        if teacher is not None:
            teacher.requires_grad_(False)
            teacher.eval()
        self.encoder = teacher  # None for 'none': the student is passed at call time

    @classmethod
    def from_config(cls, cfg: TargetConfig, student: Encoder,
                    teacher: Encoder | None = None) -> "TargetProvider":
        """Build from the ``target`` section: its fields (all but ``kind``) as keyword args."""
        fields = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name != "kind"}
        return cls(student, teacher, **fields)

    def momentum_at(self, step: int, total_steps: int) -> float:
        """The EMA momentum of the update after ``step`` (1.0, no update, unless ``ema``)."""
        if self.kind != "ema":
            return 1.0
        return ema_momentum(step, total_steps, *self.momentum)

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

    config_class = EmaTargetConfig

    def __init__(self, student: Encoder, teacher: Encoder | None = None,
                 momentum: tuple[float, float] = (0.996, 1.0)) -> None:
        super().__init__("ema", student, momentum=momentum)


class FrozenTarget(TargetProvider):
    """``target.kind: frozen``: a teacher encoder, never updated (SALT).

    The teacher is loaded before this is built (:func:`jepa_core.run.build_model`, from
    ``frozen_run`` or ``frozen_hf``); the two fields are kept for reference.
    """

    config_class = FrozenTargetConfig

    def __init__(self, student: Encoder, teacher: Encoder | None = None,
                 frozen_run: str | None = None, frozen_hf: str | None = None) -> None:
        super().__init__("frozen", student, teacher)
        self.frozen_run, self.frozen_hf = frozen_run, frozen_hf


class NoTarget(TargetProvider):
    """``target.kind: none``: teacher-free; the student's own features, with gradient."""

    def __init__(self, student: Encoder, teacher: Encoder | None = None) -> None:
        super().__init__("none", student)


def create_target(cfg: TargetConfig | dict[str, Any] | str, student: Encoder,
                  teacher: Encoder | None = None) -> TargetProvider:
    """The registered target provider of a ``target`` section around ``student``.

    Args:
        cfg: the run config's ``target`` section, a mapping ``{kind: ..., <fields>}``, or
            a kind (with its defaults).

    Raises:
        jepa_core.config.ConfigError: an unknown kind (naming the registered ones, or
            saying its plugin failed to load) or a field that provider does not have.
    """
    from .config import component_config
    from .registry import get_registry

    if isinstance(cfg, str):
        cfg = {"kind": cfg}
    cfg = component_config("target", cfg)
    return get_registry("target").get(cfg.kind).from_config(cfg, student, teacher)
