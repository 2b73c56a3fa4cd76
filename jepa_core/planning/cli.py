"""``jepa plan``: goal-reaching with a trained world model (torch-free at import)."""

from __future__ import annotations

import json
from pathlib import Path


def add_plan_parser(sub, command) -> None:
    """Add ``jepa plan`` to the subparsers ``sub`` (``command`` is cli.py's ``_command``)."""
    from .settings import PlannerConfig

    d = PlannerConfig()
    p = command(sub, "plan", "goal-reaching with a world model: CEM/MPPI in latent space + MPC",
                "Plan --episodes goal-conditioned episodes of --env with the world model of RUN "
                "(receding-horizon CEM or MPPI over action sequences, energy = distance of the "
                "predicted latents to the goal observation's latent), play the same episodes with "
                "a random policy, and print one JSON object: success_rate, random_success_rate, "
                "plan_time_per_step_s, episodes and the settings.")
    p.add_argument("run_dir", help="the --out of `jepa pretrain world`")
    p.add_argument("--env", required=True, help="a built-in env (two-room, three-room), a gymnasium "
                                                "id, or module:callable returning a gymnasium.Env")
    p.add_argument("--episodes", type=int, default=50, help="episodes to plan")
    p.add_argument("--out", help="also write the JSON object to this file")
    p.add_argument("--plot", nargs="?", const="", metavar="PNG",
                   help="PNG of planned vs actual paths (default: next to --out, else RUN/plan.png)")
    p.add_argument("--method", choices=["cem", "mppi"], default=d.method, help="planner")
    p.add_argument("--horizon", type=int, default=d.horizon, help="actions per candidate")
    p.add_argument("--samples", type=int, default=d.samples, help="candidates per iteration")
    p.add_argument("--iterations", type=int, default=d.iterations, help="refits per plan")
    p.add_argument("--elites", type=int, default=d.elites, help="CEM elites")
    p.add_argument("--temperature", type=float, default=d.temperature, help="MPPI temperature")
    p.add_argument("--energy", choices=["final", "all"], default=d.energy,
                   help="distance to the goal of the final predicted latent, or the mean over steps")
    p.add_argument("--distance", choices=["l1", "l2"], default=d.distance, help="latent distance")
    p.add_argument("--execute", type=int, default=d.execute,
                   help="actions executed per plan before replanning")
    p.add_argument("--segments", type=int, default=d.segments,
                   help="sampling noise piecewise constant over this many legs (0: per step)")
    p.add_argument("--unbatched", action="store_true",
                   help="roll candidates out one per predictor call (slow; for comparison)")
    p.add_argument("--max-steps", type=int, default=100, help="env steps per episode at most")
    p.add_argument("--seed", type=int, default=0, help="seeds the episodes and the planner")


def cmd_plan(args) -> int:
    from .evaluate import evaluate, plot_episodes
    from .settings import PlannerConfig

    cfg = PlannerConfig(method=args.method, horizon=args.horizon, samples=args.samples,
                        iterations=args.iterations, elites=args.elites, temperature=args.temperature,
                        energy=args.energy, distance=args.distance, execute=args.execute,
                        segments=args.segments,
                        batched=not args.unbatched)
    summary, results = evaluate(args.run_dir, args.env, args.episodes, cfg, seed=args.seed,
                                max_steps=args.max_steps, record=args.plot is not None,
                                progress=True)
    if args.plot is not None:
        png = args.plot or (str(Path(args.out).with_suffix(".png")) if args.out
                            else str(Path(args.run_dir) / "plan.png"))
        summary["plot"] = str(plot_episodes(results, args.env, png))
    text = json.dumps(summary)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)
    return 0
