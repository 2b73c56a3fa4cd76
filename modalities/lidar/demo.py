"""The embedded demo dataset: simulated street scans, generated once and cached."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .simulator import SensorSpec, write_dataset

#: Bump when the simulator changes, so stale caches are regenerated.
VERSION = 1
NUM_SCANS = 96


def cache_root() -> Path:
    """``$JEPA_CACHE_DIR`` or ``~/.cache/jepa_core``."""
    return Path(os.environ.get("JEPA_CACHE_DIR") or Path.home() / ".cache" / "jepa_core")


def demo_root(num_scans: int = NUM_SCANS, seed: int = 0) -> Path:
    """Generate (once) and return ``<cache>/lidar_demo_v<VERSION>`` with ``velodyne/`` and ``labels/``.

    Written to a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    root = cache_root() / f"lidar_demo_v{VERSION}_{num_scans}_{seed}"
    if (root / "DONE").is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=".lidar_demo_"))
    write_dataset(tmp, num_scans, seed=seed, spec=SensorSpec())
    (tmp / "DONE").write_text("ok\n")
    try:
        tmp.rename(root)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return root
