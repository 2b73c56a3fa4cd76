"""The planner's ceiling on the built-in room envs: MPC + CEM/MPPI with a perfect world model.

The "world model" here is the env's own dynamics (batched over candidates) and the
"latent" is the agent's true position, so the energy is the Euclidean distance to the
goal. Whatever this reaches is the most a learned latent whose distances track
positions can reach with the same planner settings; what it misses is the planner's
(or the Euclidean energy's) fault, not the model's.

Usage: ``python benchmarks/world_oracle_ceiling.py --env two-room --episodes 20
[--set energy=all --set horizon=12 ...]`` prints one JSON line per run.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from jepa_core.planning.mpc import run_episode
from jepa_core.planning.planners import LatentPlanner, PlannerConfig
from modalities.world.envs import RoomsEnv


def free(env: RoomsEnv, pos: np.ndarray) -> np.ndarray:
    """Which of ``pos [N, 2]`` the agent fits at (:meth:`RoomsEnv._free`, vectorized)."""
    m = env.margin
    ok = (pos >= m).all(1) & (pos <= 1 - m).all(1)
    for w in env.walls:
        in_door = (pos[:, 1] > w.door_lo + m) & (pos[:, 1] < w.door_hi - m)
        ok &= ~((np.abs(pos[:, 0] - w.x) < w.half + m) & ~in_door)
    return ok


def move(env: RoomsEnv, pos: np.ndarray, delta: np.ndarray, substeps: int = 8) -> np.ndarray:
    """:meth:`RoomsEnv._move` for ``N`` agents at once."""
    pos = pos.copy()
    for _ in range(substeps):
        for axis in (0, 1):
            trial = pos.copy()
            trial[:, axis] += delta[:, axis] / substeps
            ok = free(env, trial)
            pos[ok] = trial[ok]
    return pos


class OracleModel:
    """``encode`` = identity on the position (the env observes states), ``rollout`` = true dynamics."""

    def __init__(self, env: RoomsEnv, frame_skip: int) -> None:
        self.env, self.frame_skip = env, frame_skip
        self.action_width = 2 * frame_skip

    def encode(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.float()

    def rollout(self, z_history: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        h = z_history.shape[1]
        pos = z_history[:, -1].double().numpy()
        out = []
        for chunk in actions[:, h - 1:].permute(1, 0, 2).numpy():  # [N, A] per model step
            for k in range(self.frame_skip):
                step = np.clip(chunk[:, 2 * k:2 * k + 2], -1.0, 1.0) * self.env.max_step
                pos = move(self.env, pos, step)
            out.append(torch.as_tensor(pos).float())
        return torch.stack(out, dim=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="two-room", choices=["two-room", "three-room"])
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--frame-skip", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0, help="the same episodes as `jepa plan --seed`")
    ap.add_argument("--set", action="append", default=[], help="a PlannerConfig field, key=value")
    args = ap.parse_args()
    fields = PlannerConfig().to_dict()
    overrides = {}
    for item in args.set:
        key, value = item.split("=", 1)
        overrides[key] = type(fields[key])(value) if not isinstance(fields[key], bool) else value == "true"
    cfg = PlannerConfig(**overrides)
    env = RoomsEnv(layout=args.env, obs_type="state")
    model = OracleModel(env, args.frame_skip)
    width = model.action_width
    planner = LatentPlanner(model.rollout, -torch.ones(width), torch.ones(width), cfg, seed=args.seed)
    # the reset seeds of jepa_core.planning.evaluate.evaluate: the same episodes as `jepa plan`
    wins = [run_episode(env, args.env, model, planner, args.seed * 1_000_003 + e + 10_000_000,
                        max_steps=args.max_steps, history=1).success for e in range(args.episodes)]
    print(json.dumps({"env": args.env, "episodes": args.episodes, "seed": args.seed, "oracle_success_rate": float(np.mean(wins)),
                      "planner": cfg.to_dict()}))


if __name__ == "__main__":
    main()
