"""TimeFrequencyMasker: time strips, frequency bands and 2-D blocks on a (frequency, time) grid.

Spectrogram patches are not image patches: a sound is a structure along time at some
frequencies, so predicting a whole hidden time span (every band of a few hundred ms) or
a whole hidden band (all of the clip between two frequencies) asks different questions
than predicting a square. Per batch, a target *kind* is drawn from ``kinds`` and its
shape from its range:

- ``time``: strips spanning every frequency row and ``time_width`` of the time axis;
- ``frequency``: bands spanning the whole time axis and ``freq_width`` of the rows;
- ``block``: I-JEPA 2-D blocks of ``block_scale`` of the grid, aspect ``block_aspect``.

The context is every valid token outside the targets. Positions are drawn per sample by
the multiblock op (``torch.ops.jepa.multiblock_masks`` when compiled, else its
pure-PyTorch reference: the same masks), with the shapes given explicitly.

With ``curriculum_steps > 0`` a batch at step ``s`` is instead masked at random
(:func:`~jepa_core.ops.masking.random_subset_masks`, ``random_context``/``random_target``)
with probability ``1 - s / curriculum_steps``: A-JEPA's curriculum from random patches to
time-frequency-aware blocks. Every choice is Philox-keyed by ``(seed, step)``, so ranks
and resumed runs agree.

Reference: Fei et al., "A-JEPA: Joint-Embedding Predictive Architecture Can Listen"
(arXiv:2311.15830).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..config import ComponentConfig
from ..ops.capabilities import compiled_cpu, compiled_cuda
from ..ops.masking import BACKENDS, MaskSet, random_subset_masks
from ..ops.masking.blocks import block_shape, check_range
from ..ops.masking.philox import philox4x32_scalar, seed_key, uniform01
from ..ops.masking.plans import MultiblockPlan, check_token_valid, resolve_sample_ids
from ..ops.masking.reference import multiblock_from_plan
from ..tokens import TokenLayout
from .base import Masker

#: Philox stream tag of the per-batch draws of this masker (the kind and the shape).
TAG_TIME_FREQUENCY = 0x31
KINDS = ("time", "frequency", "block")


@dataclass
class TimeFrequencySettings:
    """What a time-frequency masker draws (see :class:`TimeFrequencyMasker`); its ``mask:``
    section and the masker itself both hold these fields."""

    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    num_targets: int = 2
    time_width: tuple[float, float] = (0.1, 0.25)
    freq_width: tuple[float, float] = (0.2, 0.4)
    block_scale: tuple[float, float] = (0.15, 0.2)
    block_aspect: tuple[float, float] = (0.75, 1.5)
    min_keep: int = 1
    freq_axis: int = 0
    curriculum_steps: int = 0
    random_context: float = 0.35
    random_target: float = 0.65


@dataclass
class TimeFrequencyConfig(TimeFrequencySettings, ComponentConfig):
    """``mask:`` section of the time-frequency masker: ``name`` and :class:`TimeFrequencySettings`."""


@dataclass
class TimeFrequencyMasker(Masker, TimeFrequencySettings):
    """Time strips, frequency bands or 2-D blocks as targets; the rest as context.

    Args:
        kinds: target kinds drawn from per batch (``time``, ``frequency``, ``block``).
        num_targets: target strips/bands/blocks per sample (they may overlap).
        time_width: width of a time strip, a fraction of the time axis.
        freq_width: height of a frequency band, a fraction of the frequency axis.
        block_scale, block_aspect: size (fraction of the grid) and ``freq / time``
            aspect of 2-D blocks.
        min_keep: valid tokens a target should hold (positions are retried, then the
            fullest is kept).
        freq_axis: which grid axis is frequency (0: ``(F, T)``, 1: ``(T, F)``).
        curriculum_steps: length of the random-to-structured curriculum (0: none).
        random_context, random_target: ratios of the random masks of the curriculum.
        backend: ``auto`` (the compiled op when built, else the reference), ``compiled``
            or ``reference``; the same masks from each.

    Examples:
        >>> m = TimeFrequencyMasker(kinds=["time"], num_targets=1)
        >>> ms = m(2, TokenLayout((4, 10)), seed=0, step=0)
        >>> sorted({int(i) // 10 for i in ms.target_idx[0, 0]})  # every frequency row
        [0, 1, 2, 3]
    """

    backend: str = "auto"
    config_class = TimeFrequencyConfig

    def __post_init__(self) -> None:
        self.kinds = list(self.kinds)
        if not self.kinds or any(k not in KINDS for k in self.kinds):
            raise ValueError(f"mask.kinds must be a non-empty list of {list(KINDS)}, got {self.kinds}")
        if not 1 <= int(self.num_targets) <= 32:
            raise ValueError(f"mask.num_targets must be in [1, 32], got {self.num_targets}")
        for name in ("time_width", "freq_width", "block_scale"):
            setattr(self, name, check_range(f"mask.{name}", getattr(self, name)))
        self.block_aspect = check_range("mask.block_aspect", self.block_aspect, hi_open=True)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.freq_axis not in (0, 1):
            raise ValueError(f"mask.freq_axis must be 0 or 1, got {self.freq_axis}")
        if self.curriculum_steps < 0 or self.min_keep < 0:
            raise ValueError("mask.curriculum_steps and mask.min_keep must be >= 0")
        if self.curriculum_steps and not (0 < self.random_context and 0 < self.random_target
                                          and self.random_context + self.random_target <= 1):
            raise ValueError("mask.random_context and mask.random_target must be > 0 and sum to <= 1")

    def check(self, layout: TokenLayout) -> None:
        if layout.ndim != 2:
            raise ValueError(f"the time_frequency masker needs a 2-D (frequency, time) grid, got {layout.grid}")
        if layout.num_tokens < 2:
            raise ValueError(f"the time_frequency masker needs at least 2 tokens, grid {layout.grid}")
        for kind in self.kinds:
            for u in (0.0, 1.0):
                shape = self._shape(layout.grid, kind, u, 0.0)
                if math.prod(shape) >= layout.num_tokens:
                    raise ValueError(f"mask kind {kind!r} would hide the whole grid {layout.grid} "
                                     f"(target shape {shape}); narrow its width")

    def _shape(self, grid: tuple[int, int], kind: str, u_size: float, u_aspect: float) -> tuple[int, int]:
        """The target shape ``(rows, cols)`` of one kind for uniform draws ``u_size, u_aspect``."""
        fa = self.freq_axis
        nf, nt = grid[fa], grid[1 - fa]
        if kind == "time":
            lo, hi = self.time_width
            size = (nf, min(nt, max(1, round(nt * (lo + u_size * (hi - lo))))))
        elif kind == "frequency":
            lo, hi = self.freq_width
            size = (min(nf, max(1, round(nf * (lo + u_size * (hi - lo))))), nt)
        else:
            lo, hi = self.block_scale
            a0, a1 = self.block_aspect
            aspect = math.exp(math.log(a0) + u_aspect * (math.log(a1) - math.log(a0)))
            size = block_shape((nf, nt), lo + u_size * (hi - lo), aspect, 1.0)
        return size if fa == 0 else (size[1], size[0])

    def draw(self, grid: tuple[int, int], *, seed: int, step: int) -> tuple[str, tuple[int, int]]:
        """This batch's choice: ``("random", grid)`` in the curriculum's random phase, else
        a kind and its target shape."""
        u = [uniform01(w) for w in philox4x32_scalar((0, step, 0, TAG_TIME_FREQUENCY), seed_key(seed))]
        if self.curriculum_steps and u[3] < 1.0 - step / self.curriculum_steps:
            return "random", grid
        kind = self.kinds[min(int(u[0] * len(self.kinds)), len(self.kinds) - 1)]
        return kind, self._shape(grid, kind, u[1], u[2])

    def __call__(self, batch_size: int, layout: TokenLayout, *, seed: int, step: int,
                 sample_ids: Tensor | None = None, token_valid: Tensor | None = None,
                 token_types: Tensor | None = None, token_empty: Tensor | None = None,
                 device: torch.device | str | None = None) -> MaskSet:
        self.check(layout)
        kind, shape = self.draw(layout.grid, seed=seed, step=step)
        if kind == "random":
            return random_subset_masks(batch_size, layout.grid, context_ratio=self.random_context,
                                       target_ratio=self.random_target, seed=seed, step=step,
                                       device=device, token_valid=token_valid, sample_ids=sample_ids,
                                       backend=self.backend)
        dev = torch.device(device) if device is not None else (
            token_valid.device if token_valid is not None else torch.device("cpu"))
        n = layout.num_tokens
        valid = check_token_valid(token_valid, batch_size, n)
        valid = None if valid is None else valid.to(dev)
        ids = resolve_sample_ids(sample_ids, batch_size, dev)
        plan = MultiblockPlan(batch_size=batch_size, grid=layout.grid, num_targets=int(self.num_targets),
                              target_shape=shape, context_shape=layout.grid, min_keep=int(self.min_keep),
                              allow_overlap=False)
        compiled = compiled_cuda("multiblock_masks") if dev.type == "cuda" else (
            dev.type == "cpu" and compiled_cpu("multiblock_masks"))
        if self.backend == "compiled" and not compiled:
            raise RuntimeError(f"torch.ops.jepa.multiblock_masks is not compiled for {dev.type}")
        if compiled and self.backend != "reference":
            wrap = lambda x: ((int(x) + (1 << 63)) % (1 << 64)) - (1 << 63)  # noqa: E731 (int64)
            out = torch.ops.jepa.multiblock_masks(ids, valid, list(plan.grid), plan.num_targets,
                                                  list(shape), list(plan.context_shape), plan.min_keep,
                                                  False, wrap(seed), wrap(step))
        else:
            out = multiblock_from_plan(plan, seed=seed, step=step, sample_ids=ids, token_valid=valid)
        return MaskSet(*out).trimmed()
