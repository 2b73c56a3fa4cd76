"""The demo dataset: random-policy two-room rollouts, collected once and cached."""

from __future__ import annotations

from pathlib import Path

from jepa_core.demo_cache import cached_folder

#: Bump when the collected data changes, so stale caches are regenerated.
VERSION = 2
EPISODES = 300
STEPS = 32


def demo_root(episodes: int = EPISODES, steps: int = STEPS) -> Path:
    """Collect (once) and return ``<cache>/world_two_room_v<VERSION>_<episodes>x<steps>``.

    Collected into a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    from .collect import collect

    return cached_folder(f"world_two_room_v{VERSION}_{episodes}x{steps}",
                         lambda tmp: collect("two-room", episodes, steps, tmp / "episodes", policy="random",
                                             seed=0, progress=False)) / "episodes"
