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
