"""Environments for collection and planning: lookup by name or ``module:callable``, and
the goal-conditioned convention the planner relies on.

An env spec is one of:

- ``module:callable`` (``my_pkg.envs:make_env``): the callable is imported and called
  with no arguments (or the keyword arguments given); it must return a
  ``gymnasium.Env``;
- a name from the ``jepa_core.envs`` entry-point group (the world plugin declares
  ``two-room`` and ``three-room``; a third party adds its own the same way);
- any id ``gymnasium.make`` knows.

The goal-conditioned convention (that of gymnasium-robotics' ``is_success``):
``reset()`` returns ``info["goal_obs"]``, an observation of the goal with the same
shape as the env's observations, and every ``step()`` returns ``info["is_success"]``,
``True`` once the goal is reached. The planner encodes ``goal_obs`` as its target
latent; ``is_success`` is what ``jepa plan`` counts.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

import numpy as np

GROUP = "jepa_core.envs"


class EnvError(ValueError):
    """An env that cannot be made, or does not follow the goal-conditioned convention."""


def builtin_envs() -> dict[str, str]:
    """Env names of the ``jepa_core.envs`` entry-point group mapped to their targets."""
    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def _load_callable(target: str, spec: str):
    module, _, attr = target.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError as e:
        raise EnvError(f"env {spec!r}: cannot import module {module!r} ({e})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise EnvError(f"env {spec!r}: module {module!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise EnvError(f"env {spec!r}: {target} is not callable")
    return obj


def make_env(spec: str, **kwargs: Any):
    """Make the env ``spec`` names (see the module docstring).

    Raises:
        EnvError: the spec cannot be resolved, or the callable does not return a
            ``gymnasium.Env``.
    """
    import gymnasium as gym

    if ":" in spec:
        env = _load_callable(spec, spec)(**kwargs)
    elif spec in builtin_envs():
        env = _load_callable(builtin_envs()[spec], spec)(**kwargs)
    else:
        try:
            env = gym.make(spec, **kwargs)
        except gym.error.Error as e:
            known = ", ".join(sorted(builtin_envs())) or "none"
            raise EnvError(f"unknown env {spec!r} (built-in: {known}; or any gymnasium id, or "
                           f"module:callable returning a gymnasium.Env): {e}") from None
    if not isinstance(env, gym.Env):
        raise EnvError(f"env {spec!r} returned {type(env).__name__}, not a gymnasium.Env")
    return env


def check_goal_conditioned(env, obs: Any, info: dict, spec: str) -> np.ndarray:
    """The goal observation of a ``reset()``'s ``info``, checked against the convention.

    Raises:
        EnvError: ``info`` has no ``goal_obs``, or its shape differs from the observations'.
    """
    if not isinstance(info, dict) or "goal_obs" not in info:
        raise EnvError(f"env {spec!r} is not goal-conditioned as jepa plan needs: reset() must return "
                       "info['goal_obs'] (an observation of the goal, shaped like the observations) "
                       "and step() info['is_success']; see jepa_core.planning.envs")
    goal = np.asarray(info["goal_obs"])
    if goal.shape != np.asarray(obs).shape:
        raise EnvError(f"env {spec!r}: info['goal_obs'] has shape {goal.shape}, the observations "
                       f"{np.asarray(obs).shape}; they must match")
    return goal


def is_success(info: dict, spec: str) -> bool:
    """``info["is_success"]`` of a ``step()``.

    Raises:
        EnvError: the key is missing.
    """
    if "is_success" not in info:
        raise EnvError(f"env {spec!r} is not goal-conditioned as jepa plan needs: step() must return "
                       "info['is_success']; see jepa_core.planning.envs")
    return bool(info["is_success"])


def action_shape(env, spec: str) -> tuple[float, float, int]:
    """``(low, high, A)`` of a 1-D continuous (``Box``) action space.

    Raises:
        EnvError: the action space is not a 1-D ``Box``.
    """
    from gymnasium import spaces

    space = env.action_space
    if not isinstance(space, spaces.Box) or len(space.shape) != 1:
        raise EnvError(f"env {spec!r}: planning needs a 1-D continuous (Box) action space, "
                       f"got {space}")
    return np.asarray(space.low, np.float32), np.asarray(space.high, np.float32), int(space.shape[0])
