"""Envs defined only for the tests, reached through ``module:callable`` specs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class PointEnv(gym.Env):
    """A point in the unit square observed as its 2-D state, goal-conditioned by convention."""

    def __init__(self, action_dim: int = 2, goal_conditioned: bool = True, max_steps: int = 12) -> None:
        self.action_space = spaces.Box(-1.0, 1.0, (action_dim,), np.float32)
        self.observation_space = spaces.Box(0.0, 1.0, (2,), np.float32)
        self.goal_conditioned, self.max_steps = goal_conditioned, max_steps

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(0.2, 0.8, 2)
        self.goal = self.np_random.uniform(0.2, 0.8, 2)
        self.t = 0
        info = {"state": self.pos.astype(np.float32)}
        if self.goal_conditioned:
            info["goal_obs"] = self.goal.astype(np.float32)
        return self.pos.astype(np.float32), info

    def step(self, action):
        a = np.clip(np.asarray(action, np.float64)[:2], -1, 1)
        self.pos = np.clip(self.pos + 0.1 * a, 0.0, 1.0)
        self.t += 1
        success = bool(np.linalg.norm(self.pos - self.goal) < 0.1)
        info = {"state": self.pos.astype(np.float32)}
        if self.goal_conditioned:
            info["is_success"] = success
        return self.pos.astype(np.float32), float(success), success, self.t >= self.max_steps, info


def make_point_env() -> PointEnv:
    return PointEnv()


def make_3d_action_env() -> PointEnv:
    return PointEnv(action_dim=3)


def make_plain_env() -> PointEnv:
    return PointEnv(goal_conditioned=False)


def make_not_an_env() -> object:
    return object()
