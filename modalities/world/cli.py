"""``jepa collect``: the command's parser and function (torch-free at import)."""

from __future__ import annotations

import json
from pathlib import Path


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
    p.add_argument("--force", action="store_true",
                   help="collect into an --out that already holds episode files, deleting them first")


def _clear_out(out: Path, force: bool) -> None:
    """Refuse (or, with ``force``, empty of episodes) an ``--out`` that already holds episodes:
    new files would overwrite some of the old ones and leave the rest, one mixed dataset."""
    from jepa_core.run import RunError

    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file, not a folder")
    old = sorted(out.glob("episode_*.npz")) if out.is_dir() else []
    if old and not force:
        names = ", ".join(p.name for p in old[:3]) + (", ..." if len(old) > 3 else "")
        raise RunError(f"--out {out} already holds {len(old)} episode files ({names}); collecting "
                       "into it would overwrite some and keep the others: choose another folder, "
                       "or pass --force to delete them first")
    for path in old:
        path.unlink()


def cmd_collect(args) -> int:
    from .collect import collect

    _clear_out(Path(args.out), args.force)
    summary = collect(args.env, args.episodes, args.steps, args.out, policy=args.policy,
                      seed=args.seed, progress=True)
    print(json.dumps(summary))
    return 0
