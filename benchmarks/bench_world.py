"""World models: goal-reaching success, planning time, batched vs unbatched CEM, rollout error.

For each (env, run) pair given: plans ``--episodes`` episodes with the default planner
(:class:`jepa_core.planning.settings.PlannerConfig`) and a random policy on the same
episodes (``jepa_core.planning.evaluate.evaluate``, what ``jepa plan`` runs); times
``--replans`` plans of the same CEM with all candidates in one predictor call per step
against one candidate per call (checking the plans agree); and measures open-loop
rollout error vs horizon on held-out trajectories (:mod:`modalities.world.diagnostics`).
Writes ``world.json`` and ``world.md`` to ``--out``.

The runs are made with the README's commands, e.g.::

    jepa collect two-room --episodes 600 --steps 32 --out data/two-room
    jepa pretrain world --data data/two-room --out runs/wm2 --steps 1000
    jepa collect two-room --episodes 100 --steps 32 --seed 1 --out data/two-room-heldout

Usage: ``nice -n 10 python benchmarks/bench_world.py --case two-room runs/wm2 data/two-room-heldout
[--case three-room runs/wm3 data/three-room-heldout] [--episodes 50] [--out benchmarks/results]``
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from jepa_core.planning.envs import make_env
from jepa_core.planning.evaluate import check_env_fits, evaluate, load_world_model
from jepa_core.planning.planners import LatentPlanner
from jepa_core.planning.settings import PlannerConfig
from modalities.world.diagnostics import rollout_errors


@torch.no_grad()
def batched_vs_unbatched(run: str, env_spec: str, replans: int, cfg: PlannerConfig) -> dict:
    """Seconds per plan of the same CEM, batched and one candidate per predictor call."""
    loaded, model = load_world_model(run)
    env = make_env(env_spec)
    k = check_env_fits(model, loaded.state, env, env_spec)
    low = torch.as_tensor(np.tile(env.action_space.low, k))
    high = torch.as_tensor(np.tile(env.action_space.high, k))
    out = {}
    plans = {}
    for batched in (True, False):
        c = PlannerConfig(**{**cfg.to_dict(), "batched": batched})
        times, made = [], []
        for r in range(replans):
            obs, info = env.reset(seed=r)
            z = model.encode(torch.as_tensor(obs)[None])
            goal = model.encode(torch.as_tensor(info["goal_obs"])[None])[0]
            planner = LatentPlanner(model.rollout, low, high, c, seed=r)
            tic = time.perf_counter()
            made.append(planner.plan(z, torch.zeros(0, model.action_width), goal))
            times.append(time.perf_counter() - tic)
        out["batched_s" if batched else "unbatched_s"] = float(np.mean(times))
        plans[batched] = torch.stack(made)
    out["speedup"] = out["unbatched_s"] / out["batched_s"]
    out["plans_max_abs_diff"] = float((plans[True] - plans[False]).abs().max())
    out["replans"] = replans
    return out


def markdown(result: dict) -> str:
    lines = ["# World models: planning success and speed", "",
             f"Machine: {result['machine']}; torch threads {result['torch_threads']}; CPU only. "
             "Command: `" + result["command"] + "`.", "",
             "| env | episodes | success (planner) | success (random policy) | plan time / step (s) | "
             "mean env steps to success |", "|---|---|---|---|---|---|"]
    for c in result["cases"]:
        s = c["plan"]
        lines.append(f"| {c['env']} | {s['episodes']} | {s['success_rate']:.2f} | "
                     f"{s['random_success_rate']:.2f} | {s['plan_time_per_step_s']:.3f} | "
                     f"{s['mean_steps_success']} |")
    lines += ["", "Batched vs unbatched CEM (same candidates, same plans):", "",
              "| env | batched s / plan | unbatched s / plan | speedup | max abs plan diff |",
              "|---|---|---|---|---|"]
    for c in result["cases"]:
        b = c["batched_vs_unbatched"]
        lines.append(f"| {c['env']} | {b['batched_s']:.3f} | {b['unbatched_s']:.2f} | "
                     f"{b['speedup']:.0f}x | {b['plans_max_abs_diff']:.1e} |")
    for c in result["cases"]:
        d = c["rollout"]
        lines += ["", f"Open-loop rollout error on held-out {c['env']} trajectories ({d['windows']} windows; "
                  "latent L2, and position error in map units through a linear probe):", "",
                  "| step | latent L2 | copy-last L2 | position err | probe floor | copy-last position err |",
                  "|---|---|---|---|---|---|"]
        for i, k in enumerate(d["horizon"]):
            lines.append(f"| {k} | {d['latent_l2'][i]:.3f} | {d['copy_l2'][i]:.3f} | "
                         f"{d['position_err'][i]:.3f} | {d['position_err_true'][i]:.3f} | "
                         f"{d['position_err_copy'][i]:.3f} |")
    lines += ["", "Planner settings: `" + json.dumps(result["cases"][0]["plan"]["settings"]) + "`", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", nargs=3, action="append", required=True, metavar=("ENV", "RUN", "HELDOUT"))
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--replans", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--tag", default="", help="suffix of the result files (world<TAG>.json)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = PlannerConfig()
    cases = []
    for env, run, heldout in args.case:
        summary, _ = evaluate(run, env, args.episodes, cfg, seed=0)
        print(json.dumps(summary), flush=True)
        speed = batched_vs_unbatched(run, env, args.replans, cfg)
        print(json.dumps(speed), flush=True)
        loaded, model = load_world_model(run)
        diag = rollout_errors(model, heldout, loaded.state["options"]["frame_skip"])
        cases.append({"env": env, "run": run, "plan": summary, "batched_vs_unbatched": speed,
                      "rollout": diag, "train_config": {"options": loaded.state["options"],
                                                        "steps": loaded.step}})
        write(args, cases)


def write(args, cases) -> None:
    result = {"machine": f"{platform.machine()} {platform.processor() or ''} (2 cores shared)".strip(),
              "torch_threads": torch.get_num_threads(),
              "command": "nice -n 10 python benchmarks/bench_world.py " + " ".join(
                  f"--case {e} {r} {h}" for e, r, h in args.case) + f" --episodes {args.episodes}",
              "cases": cases}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"world{args.tag}.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / f"world{args.tag}.md").write_text(markdown(result))
    print(f"wrote {Path(args.out) / f'world{args.tag}.json'}")



if __name__ == "__main__":
    main()
