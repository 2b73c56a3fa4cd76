"""The planner's settings (torch-free, so ``jepa plan --help`` shows them without loading torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

METHODS = ("cem", "mppi")


@dataclass
class PlannerConfig:
    """Planner settings (all printed by ``jepa plan``).

    Args:
        method: ``cem`` or ``mppi``.
        horizon: actions per candidate (model frames).
        samples: candidates per iteration.
        iterations: refits per plan.
        elites: candidates CEM refits to.
        init_std: initial std, as a fraction of the action box's half-width.
        min_std: lower bound of the std (same units).
        temperature: MPPI's softmax temperature on energies scaled to [0, 1].
        energy: ``final`` or ``all``.
        distance: ``l1`` or ``l2``.
        execute: actions of each plan executed before replanning (receding horizon).
        segments: the sampling noise is piecewise constant over this many equal pieces of
            the horizon (colored noise, as in iCEM), so candidates travel far in a few
            straight legs instead of diffusing; ``0``: independent noise per step.
        batched: all candidates in one predictor call per step (``False``: one each).
    """

    method: str = "cem"
    horizon: int = 16
    samples: int = 128
    iterations: int = 4
    elites: int = 16
    init_std: float = 1.0
    min_std: float = 0.05
    temperature: float = 0.05
    energy: str = "all"
    distance: str = "l2"
    execute: int = 2
    segments: int = 3
    batched: bool = True

    def validate(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"planner method must be one of {METHODS}, got {self.method!r}")
        if self.energy not in ("final", "all") or self.distance not in ("l1", "l2"):
            raise ValueError(f"energy must be final|all and distance l1|l2, got {self.energy!r}, "
                             f"{self.distance!r}")
        if min(self.horizon, self.samples, self.iterations, self.elites, self.execute) < 1:
            raise ValueError("horizon, samples, iterations, elites and execute must be >= 1")
        if self.segments < 0:
            raise ValueError(f"segments must be >= 0 (0: independent noise per step), got {self.segments}")
        if self.elites > self.samples or self.execute > self.horizon:
            raise ValueError(f"need elites <= samples and execute <= horizon, got {self.elites} > "
                             f"{self.samples} or {self.execute} > {self.horizon}")

    def to_dict(self) -> dict:
        return asdict(self)
