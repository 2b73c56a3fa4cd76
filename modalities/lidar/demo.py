"""The embedded demo dataset: simulated street scans, generated once and cached."""

from __future__ import annotations

from pathlib import Path

from jepa_core.demo_cache import cached_folder

from .simulator import SensorSpec, write_dataset

#: Bump when the simulator changes, so stale caches are regenerated.
VERSION = 1
NUM_SCANS = 96



def demo_root(num_scans: int = NUM_SCANS, seed: int = 0) -> Path:
    """Generate (once) and return ``<cache>/lidar_demo_v<VERSION>`` with ``velodyne/`` and ``labels/``.

    Written to a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    return cached_folder(f"lidar_demo_v{VERSION}_{num_scans}_{seed}",
                         lambda tmp: write_dataset(tmp, num_scans, seed=seed, spec=SensorSpec()))
