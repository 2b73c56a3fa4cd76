"""The embedded demo traces: simulated sessions written once to the cache, then reused."""

from __future__ import annotations

from pathlib import Path

from jepa_core.demo_cache import cache_root

from .simulator import simulate
from .traces import write_sessions

#: Bump when the simulator changes, so stale caches are regenerated.
VERSION = 2
NUM_SESSIONS = 1100  # 100 per intent


def demo_path() -> Path:
    """Write (once) and return ``<cache>/ui_sessions_v<VERSION>/sessions.jsonl``.

    Written to a temporary file and renamed into place, so a concurrent caller never
    reads a half-written file.
    """
    path = cache_root() / f"ui_sessions_v{VERSION}" / "sessions.jsonl"
    if not path.is_file():
        write_sessions(simulate(NUM_SESSIONS, seed=0), path)
    return path


def write_demo(folder: str | Path, num: int = NUM_SESSIONS, seed: int = 0,
               screens: bool = False) -> Path:
    """Write ``num`` simulated sessions to ``folder/sessions.jsonl`` and return its path.

    Args:
        screens: also draw a simple screenshot per event (Pillow, :mod:`.render`) into
            ``folder/shots/`` and give every session its ``screens`` list.
    """
    from .render import render_screens

    folder = Path(folder)
    sessions = simulate(num, seed=seed)
    if screens:
        for i, s in enumerate(sessions):
            s["screens"] = render_screens(s, folder / "shots", f"s{i}")
    return write_sessions(sessions, folder / "sessions.jsonl")
