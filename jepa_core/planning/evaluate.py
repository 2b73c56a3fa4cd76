"""Goal-reaching evaluation of a trained world model: ``jepa plan`` and the benchmark.

:func:`evaluate` loads a run, checks that it is a world model whose actions and
observations fit the env, plans ``episodes`` episodes with MPC and plays the same
episodes (same reset seeds) with a random policy; it returns the JSON ``jepa plan``
prints.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from .envs import EnvError, action_shape, make_env
from .mpc import EpisodeResult, random_episode, run_episode
from .planners import LatentPlanner, PlannerConfig


def load_world_model(run_dir: str | Path):
    """``(LoadedRun, WorldModel)`` of a run directory.

    Raises:
        RunError: not a run, or a run of another method than ``world``.
    """
    from ..methods.world import WorldModel
    from ..run import RunDir, RunError, load_run

    cfg, _ = RunDir(run_dir).read()
    if cfg.method.name != "world":
        raise RunError(f"{run_dir} is not a world model: it is a {cfg.modality!r} run trained with "
                       f"method {cfg.method.name!r}; jepa plan needs a run of `jepa pretrain world` "
                       "(method.name=world)")
    loaded = load_run(run_dir)
    if not isinstance(loaded.model, WorldModel):
        raise RunError(f"{run_dir}: method {cfg.method.name!r} did not build a WorldModel")
    return loaded, loaded.model


def check_env_fits(model, state: dict, env, spec: str) -> int:
    """The frame skip implied by the model and the env's action width (checked).

    Raises:
        EnvError: the env's action or observation shape does not match the model's.
    """
    _, _, width = action_shape(env, spec)
    trained = state.get("env_action_dim")
    if (trained is not None and trained != width) or model.action_width % width:
        raise EnvError(f"action dimension mismatch: env {spec!r} takes {width}-D actions but the world "
                       f"model was trained on {trained if trained is not None else model.action_width}-D "
                       f"actions (model action width {model.action_width})")
    frame = tuple(model.encoder.tokenizer.frame_shape)
    shape = tuple(env.observation_space.shape or ())
    if shape and shape != frame:
        raise EnvError(f"observation mismatch: env {spec!r} observes {shape}, the world model was "
                       f"trained on {frame}")
    return model.action_width // width


def evaluate(run_dir: str | Path, env_spec: str, episodes: int, planner_cfg: PlannerConfig,
             seed: int = 0, max_steps: int = 100, record: bool = False,
             progress: bool = False) -> tuple[dict, list[EpisodeResult]]:
    """Plan ``episodes`` episodes; returns the summary and the per-episode results.

    The summary: ``success_rate``, ``random_success_rate`` (the same episodes),
    ``plan_time_per_step_s`` (mean seconds per replan), ``episodes``, ``env``, ``run``,
    ``mean_steps_success``, ``settings`` (planner, frame skip, history, max steps, seed).
    ``progress`` shows the episodes done on stderr (a bar on a terminal, else a plain line
    every tenth of them).
    """
    from ..train.progress import LoopProgress

    if episodes < 1:
        raise ValueError(f"--episodes must be >= 1, got {episodes}")
    planner_cfg.validate()
    loaded, model = load_world_model(run_dir)
    env = make_env(env_spec)
    frame_skip = check_env_fits(model, loaded.state, env, env_spec)
    low, high, _ = action_shape(env, env_spec)
    low_t = torch.as_tensor(np.tile(low, frame_skip))
    high_t = torch.as_tensor(np.tile(high, frame_skip))
    planner = LatentPlanner(model.rollout, low_t, high_t, planner_cfg, seed=seed)
    history = min(model.history, model.predictor.max_frames)
    results = []
    tic = time.perf_counter()
    bar = LoopProgress(episodes, f"plan {env_spec}", "episode", enabled=progress)
    for e in range(episodes):
        results.append(run_episode(env, env_spec, model, planner, seed * 1_000_003 + e + 10_000_000,
                                   max_steps, history, record))
        bar.update(successes=sum(r.success for r in results))
    bar.close()
    rng = np.random.default_rng(seed)
    random_ok = [random_episode(env, env_spec, seed * 1_000_003 + e + 10_000_000, max_steps, rng)
                 for e in range(episodes)]
    times = [t for r in results for t in r.plan_times]
    ok_steps = [r.steps for r in results if r.success]
    summary = {
        "success_rate": float(np.mean([r.success for r in results])),
        "random_success_rate": float(np.mean(random_ok)),
        "plan_time_per_step_s": float(np.mean(times)) if times else 0.0,
        "episodes": episodes,
        "env": env_spec,
        "run": str(run_dir),
        "mean_steps_success": float(np.mean(ok_steps)) if ok_steps else None,
        "wall_s": round(time.perf_counter() - tic, 2),
        "settings": {"planner": planner_cfg.to_dict(), "frame_skip": frame_skip, "history": history,
                     "max_steps": max_steps, "seed": seed,
                     "device": "cpu", "torch_threads": torch.get_num_threads()},
    }
    env.close()
    return summary, results


def plot_episodes(results: list[EpisodeResult], env_spec: str, out: str | Path, limit: int = 6) -> Path:
    """A PNG of actual (solid) and first-plan (dashed) paths on the map, one panel per episode.

    Walls are drawn when the env exposes them (``env.unwrapped.walls``, as the built-in
    rooms envs do); positions come from ``info["state"]``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    env = make_env(env_spec)
    walls = getattr(env.unwrapped, "walls", ())
    shown = results[:limit]
    fig, axes = plt.subplots(1, len(shown), figsize=(3 * len(shown), 3.2), squeeze=False)
    for ax, r in zip(axes[0], shown):
        for w in walls:
            ax.plot([w.x, w.x], [0, w.door_lo], color="0.4", lw=3)
            ax.plot([w.x, w.x], [w.door_hi, 1], color="0.4", lw=3)
        if r.path:
            p = np.asarray(r.path)
            ax.plot(p[:, 0], p[:, 1], "-", color="tab:blue", label="actual")
            ax.plot(p[0, 0], p[0, 1], "o", color="tab:blue")
        if r.planned:
            q = np.asarray([r.path[0]] + r.planned) if r.path else np.asarray(r.planned)
            ax.plot(q[:, 0], q[:, 1], "--", color="tab:orange", label="first plan")
        if r.goal is not None:
            ax.plot(r.goal[0], r.goal[1], "*", color="tab:green", ms=12, label="goal")
        ax.set_xlim(0, 1)
        ax.set_ylim(1, 0)  # image rows: y grows downwards, as in the observations
        ax.set_aspect("equal")
        ax.set_title(f"{'success' if r.success else 'failure'}, {r.steps} steps", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"{env_spec}: planned vs actual")
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    env.close()
    return out


__all__ = ["evaluate", "load_world_model", "check_env_fits", "plot_episodes", "EnvError"]
