"""CEM and MPPI over action sequences in a world model's latent space.

A candidate is a sequence of ``horizon`` actions. Its energy is the distance between
the latent the world model predicts after it (``energy="final"``, V-JEPA 2-AC) or after
each of its steps (``"all"``, averaged) and the goal's latent, by ``l1`` (mean absolute,
V-JEPA 2-AC) or ``l2``. All candidates of an iteration are rolled out in one batched
predictor call per step (``batched=False`` rolls them out one at a time, the same
numbers, for comparison).

- **CEM**: sample candidates from a diagonal Gaussian, keep the ``elites`` lowest
  energies, refit mean and std to them, repeat ``iterations`` times.
- **MPPI**: the same sampling, the new mean a softmax(-energy / temperature)-weighted
  average of all candidates (energies scaled to [0, 1] first).

Actions are sampled in the env's ``[low, high]`` box (clipped), with noise that is
piecewise constant over ``segments`` legs of the horizon (colored noise, iCEM); the mean
starts at the box centre (or at the previous plan shifted by the steps executed).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from .settings import METHODS, PlannerConfig

__all__ = ["LatentPlanner", "PlannerConfig", "METHODS", "latent_distance"]


def latent_distance(pred: Tensor, goal: Tensor, distance: str) -> Tensor:
    """``[..., D]`` vs ``[D]`` -> ``[...]``: mean absolute (``l1``) or Euclidean (``l2``) distance."""
    diff = pred - goal
    return diff.abs().mean(-1) if distance == "l1" else diff.norm(dim=-1)


class LatentPlanner:
    """Plans action sequences with a rollout function ``(z_history, actions) -> latents``.

    Args:
        rollout: ``[N, h, D], [N, h + H - 1, A] -> [N, H, D]`` (e.g.
            :meth:`jepa_core.methods.world.WorldModel.rollout`).
        low, high: the action box ``[A]``.
        cfg: settings.
        seed: seeds the sampling (the same seed plans the same way).
    """

    def __init__(self, rollout: Callable[[Tensor, Tensor], Tensor], low: Tensor, high: Tensor,
                 cfg: PlannerConfig, seed: int = 0) -> None:
        cfg.validate()
        self.rollout, self.cfg = rollout, cfg
        self.low, self.high = low.float(), high.float()
        self.generator = torch.Generator().manual_seed(seed)
        self._warm: Tensor | None = None

    def reset(self) -> None:
        """Forget the warm start (a new episode)."""
        self._warm = None

    @torch.no_grad()
    def energies(self, z_history: Tensor, past_actions: Tensor, candidates: Tensor,
                 goal: Tensor) -> Tensor:
        """Energy of each candidate ``[N, H, A]`` from history ``[h, D]`` -> ``[N]``.

        ``past_actions`` ``[h - 1, A]`` are the actions taken between the history frames.
        """
        n = candidates.shape[0]
        actions = torch.cat([past_actions.expand(n, -1, -1), candidates], dim=1)
        hist = z_history.expand(n, -1, -1)
        if self.cfg.batched:
            pred = self.rollout(hist, actions)
        else:
            pred = torch.cat([self.rollout(hist[i:i + 1], actions[i:i + 1]) for i in range(n)])
        d = latent_distance(pred, goal, self.cfg.distance)  # [N, H]
        return d[:, -1] if self.cfg.energy == "final" else d.mean(1)

    def sample(self, mean: Tensor, std: Tensor) -> Tensor:
        h, segments = mean.shape[0], self.cfg.segments
        if segments and segments < h:  # piecewise-constant noise: a few straight legs
            knots = torch.randn((self.cfg.samples, segments, mean.shape[1]), generator=self.generator)
            piece = torch.div(torch.arange(h) * segments, h, rounding_mode="floor")
            eps = knots[:, piece]
        else:
            eps = torch.randn((self.cfg.samples, *mean.shape), generator=self.generator)
        out = mean + std * eps
        out[0] = mean  # the current mean is always a candidate
        return torch.maximum(torch.minimum(out, self.high), self.low)

    @torch.no_grad()
    def plan(self, z_history: Tensor, past_actions: Tensor, goal: Tensor) -> Tensor:
        """The planned action sequence ``[H, A]``.

        Shapes:
            z_history ``[h, D]``, past_actions ``[h - 1, A]``, goal ``[D]``.
        """
        c = self.cfg
        half = (self.high - self.low) / 2
        centre = (self.high + self.low) / 2
        mean = centre.expand(c.horizon, -1).clone() if self._warm is None else self._warm
        std = (c.init_std * half).expand(c.horizon, -1).clone()
        floor = c.min_std * half
        for _ in range(c.iterations):
            cand = self.sample(mean, std)
            e = self.energies(z_history, past_actions, cand, goal)
            if c.method == "cem":
                elite = cand[torch.topk(e, c.elites, largest=False).indices]
                mean, std = elite.mean(0), torch.maximum(elite.std(0), floor)
            else:
                scaled = (e - e.min()) / (e.max() - e.min()).clamp_min(1e-8)
                w = torch.softmax(-scaled / c.temperature, dim=0)[:, None, None]
                mean = (w * cand).sum(0)
                std = torch.maximum(((w * (cand - mean) ** 2).sum(0)).sqrt(), floor)
        k = c.execute
        self._warm = torch.cat([mean[k:], centre.expand(k, -1)], dim=0)
        return mean
