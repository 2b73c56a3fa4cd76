"""``jepa collect``: roll a policy out in any gymnasium env and write the trajectory format.

Policies (no learning, for world-model data):

- ``random``: actions drawn uniformly from the action space at every step;
- ``noisy``: a random walk in action space (``a_t = 0.8 a_{t-1} + noise``, clipped), a
  "scripted with noise" policy whose moves persist for several steps and so reach
  further than independent draws.

Episodes end after ``steps`` steps or when the env terminates or truncates. When the env
reports ``info["state"]`` (the built-in rooms envs do: the agent's position) it is saved
as ``states``, for position probes (:mod:`jepa_core.planning.diagnostics`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jepa_core.planning.envs import EnvError, make_env

from .trajectories import write_episode

POLICIES = ("random", "noisy")


def _policy_actions(space, policy: str, rng: np.random.Generator, steps: int) -> np.ndarray:
    low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
    u = rng.uniform(-1.0, 1.0, (steps, low.shape[0]))
    if policy == "noisy":
        for t in range(1, steps):
            u[t] = np.clip(0.8 * u[t - 1] + 0.5 * u[t], -1.0, 1.0)
    return (low + (u + 1.0) * 0.5 * (high - low)).astype(np.float32)


def collect(env_spec: str, episodes: int, steps: int, out: str | Path, policy: str = "random",
            seed: int = 0, progress: bool = True) -> dict:
    """Write ``episodes`` episodes of up to ``steps`` steps as ``out/episode_XXXXX.npz``.

    Args:
        env_spec: a built-in env name, a gymnasium id or ``module:callable``.
        episodes: how many episodes.
        steps: steps per episode (fewer when the env ends one first).
        out: the folder to write (created).
        policy: ``random`` or ``noisy``.
        seed: seeds the env resets and the policy.
        progress: show a tqdm progress bar (on stderr).

    Returns:
        A summary: ``out``, ``episodes``, ``steps`` (in all), ``observations`` shape,
        ``action_dim``.
    """
    from gymnasium import spaces
    from tqdm import tqdm

    if episodes < 1 or steps < 2:
        raise ValueError(f"--episodes must be >= 1 and --steps >= 2, got {episodes} and {steps}")
    if policy not in POLICIES:
        raise ValueError(f"--policy must be one of {POLICIES}, got {policy!r}")
    env = make_env(env_spec)
    if not isinstance(env.action_space, spaces.Box) or len(env.action_space.shape) != 1:
        raise EnvError(f"env {env_spec!r}: collect needs a 1-D continuous (Box) action space, "
                       f"got {env.action_space}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    total, shape = 0, None
    for e in tqdm(range(episodes), desc=f"collect {env_spec}", unit="ep", disable=not progress):
        obs, info = env.reset(seed=seed * 1_000_003 + e)
        plan = _policy_actions(env.action_space, policy, rng, steps)
        frames, actions, rewards, terminals, states = [], [], [], [], []
        for t in range(steps):
            frames.append(np.asarray(obs))
            if isinstance(info, dict) and "state" in info:
                states.append(np.asarray(info["state"], np.float32).reshape(-1))
            actions.append(plan[t])
            obs, reward, terminated, truncated, info = env.step(plan[t])
            rewards.append(float(reward))
            terminals.append(bool(terminated))
            if terminated or truncated:
                break
        frames_arr = np.stack(frames)
        if frames_arr.dtype != np.uint8:
            frames_arr = frames_arr.astype(np.float32)
        shape = frames_arr.shape[1:]
        write_episode(out / f"episode_{e:05d}.npz", frames_arr, np.stack(actions),
                      np.asarray(rewards), np.asarray(terminals),
                      np.stack(states) if len(states) == len(frames) else None)
        total += len(frames)
    env.close()
    return {"out": str(out), "episodes": episodes, "steps": total,
            "observations": list(shape), "action_dim": int(env.action_space.shape[0])}
