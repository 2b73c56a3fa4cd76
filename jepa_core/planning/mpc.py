"""Receding-horizon control: plan in latent space, execute the first actions, replan.

:func:`run_episode` drives one goal-conditioned episode of a gymnasium env with a
trained world model (:class:`~jepa_core.methods.world.WorldModel`) and a
:class:`~jepa_core.planning.planners.LatentPlanner`; :func:`random_episode` is the
baseline on the same episode (same reset seed). With frame skip ``k`` a model action is
a chunk of ``k`` env actions, executed one after another.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .envs import check_goal_conditioned, is_success
from .planners import LatentPlanner


@dataclass
class EpisodeResult:
    """One episode: success, env steps, planning seconds per replan, and (for plots) the
    agent's path, the first plan's path and the goal (``info["state"]``, when the env has it)."""

    success: bool
    steps: int
    plan_times: list[float] = field(default_factory=list)
    path: list[list[float]] = field(default_factory=list)
    planned: list[list[float]] = field(default_factory=list)
    goal: list[float] | None = None


def _state(info: dict) -> list[float] | None:
    s = info.get("state")
    return None if s is None else [float(v) for v in np.asarray(s).reshape(-1)[:2]]


def _step_chunk(env, chunk: np.ndarray, env_width: int, spec: str):
    """Execute one model action (``frame_skip`` env actions); stop at success or episode end."""
    obs = info = None
    success = done = False
    steps = 0
    for a in chunk.reshape(-1, env_width):
        obs, _, terminated, truncated, info = env.step(a)
        steps += 1
        success = is_success(info, spec)
        done = terminated or truncated
        if success or done:
            break
    return obs, info, success, done, steps


def _planned_path(env, plan: np.ndarray, env_width: int) -> list[list[float]]:
    """Where the plan would take the agent if executed open-loop (on a copy of the env)."""
    try:
        sim = copy.deepcopy(env)
    except Exception:  # an env that cannot be copied: no planned path in the plot
        return []
    path = []
    for a in plan.reshape(-1, env_width):
        _, _, terminated, truncated, info = sim.step(a)
        s = _state(info)
        if s is None:
            return []
        path.append(s)
        if terminated or truncated:
            break
    return path


@torch.no_grad()
def run_episode(env, spec: str, model, planner: LatentPlanner, seed: int, max_steps: int,
                history: int, record: bool = False) -> EpisodeResult:
    """Plan and act until success, the env ends the episode, or ``max_steps`` env steps.

    Args:
        env: a goal-conditioned gymnasium env (see :mod:`jepa_core.planning.envs`).
        spec: its name, for messages.
        model: the world model (``encode``, ``action_width``).
        planner: plans model actions.
        seed: the reset seed.
        max_steps: env steps at most.
        history: latent frames kept as the predictor's context.
        record: keep the agent's path and the first plan's path (``--plot``).
    """
    obs, info = env.reset(seed=seed)
    goal_obs = check_goal_conditioned(env, obs, info, spec)
    env_width = int(np.prod(env.action_space.shape))
    planner.reset()
    z_goal = model.encode(torch.as_tensor(goal_obs)[None])[0]
    latents = [model.encode(torch.as_tensor(np.asarray(obs))[None])[0]]
    past: list[torch.Tensor] = []
    result = EpisodeResult(success=bool(info.get("is_success", False)), steps=0,
                           goal=None if info.get("goal_state") is None else
                           [float(v) for v in np.asarray(info["goal_state"]).reshape(-1)[:2]])
    if record and _state(info) is not None:
        result.path.append(_state(info))
    while not result.success and result.steps < max_steps:
        z_hist = torch.stack(latents[-history:])
        past_actions = torch.stack(past[-(z_hist.shape[0] - 1):]) if z_hist.shape[0] > 1 else \
            torch.zeros(0, model.action_width)
        tic = time.perf_counter()
        plan = planner.plan(z_hist, past_actions, z_goal)
        result.plan_times.append(time.perf_counter() - tic)
        plan_np = plan.numpy()
        if record and not result.planned:
            result.planned = _planned_path(env, plan_np, env_width)
        done = False
        for chunk in plan_np[:planner.cfg.execute]:
            obs, info, success, done, steps = _step_chunk(env, chunk, env_width, spec)
            result.steps += steps
            result.success = success
            past.append(torch.as_tensor(chunk))
            latents.append(model.encode(torch.as_tensor(np.asarray(obs))[None])[0])
            if record and _state(info) is not None:
                result.path.append(_state(info))
            if success or done or result.steps >= max_steps:
                break
        if done:
            break
    return result


def random_episode(env, spec: str, seed: int, max_steps: int, rng: np.random.Generator) -> bool:
    """Whether uniformly random actions reach the goal of the episode reset with ``seed``."""
    obs, info = env.reset(seed=seed)
    check_goal_conditioned(env, obs, info, spec)
    if info.get("is_success", False):
        return True
    low, high = env.action_space.low, env.action_space.high
    for _ in range(max_steps):
        _, _, terminated, truncated, info = env.step(rng.uniform(low, high).astype(np.float32))
        if is_success(info, spec):
            return True
        if terminated or truncated:
            return False
    return False
