"""``jepa collect``: the command's parser and function (torch-free at import)."""

from __future__ import annotations

import json


def add_collect_parser(sub, command) -> None:
    """Add ``jepa collect`` to the subparsers ``sub`` (``command`` is cli.py's ``_command``)."""
    p = command(sub, "collect", "roll out a random policy in a gymnasium env into trajectory files",
                "Write --episodes episodes of at most --steps steps of ENV, one .npz per episode "
                "(observations [T, ...], actions [T, A], rewards, terminals), into --out; the "
                "format `jepa pretrain world --data` reads.")
    p.add_argument("env", help="a built-in env (two-room, three-room), a gymnasium id, or "
                               "module:callable returning a gymnasium.Env")
    p.add_argument("--episodes", type=int, required=True, help="episodes to collect")
    p.add_argument("--steps", type=int, required=True, help="steps per episode at most")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--policy", choices=["random", "noisy"], default="random",
                   help="random: uniform actions; noisy: a random walk in action space")
    p.add_argument("--seed", type=int, default=0, help="seeds the resets and the policy")


def cmd_collect(args) -> int:
    from .collect import collect

    summary = collect(args.env, args.episodes, args.steps, args.out, policy=args.policy,
                      seed=args.seed, progress=True)
    print(json.dumps(summary))
    return 0
