"""The demo dataset: random-policy two-room rollouts, collected once and cached."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

#: Bump when the collected data changes, so stale caches are regenerated.
VERSION = 2
EPISODES = 300
STEPS = 32


def demo_root(episodes: int = EPISODES, steps: int = STEPS) -> Path:
    """Collect (once) and return ``<cache>/world_two_room_v<VERSION>_<episodes>x<steps>``.

    Collected into a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    from modalities.image.demo import cache_root

    from .collect import collect

    root = cache_root() / f"world_two_room_v{VERSION}_{episodes}x{steps}"
    if (root / "DONE").is_file():
        return root / "episodes"
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=".world_demo_"))
    collect("two-room", episodes, steps, tmp / "episodes", policy="random", seed=0, progress=False)
    (tmp / "DONE").write_text("ok\n")
    try:
        tmp.rename(root)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return root / "episodes"
