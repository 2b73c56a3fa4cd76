"""LiDAR point clouds to bird's-eye-view tokens (AD-L-JEPA).

Readers for KITTI/nuScenes ``.bin``, ``.npy``, ``.pcd`` and ``.las``/``.laz`` scans, a
PointPillars-style tokenizer on a BEV grid with empty-cell flags, a ray-casting street
scene simulator for the demo data, and per-token probes against SemanticKITTI labels.
"""

from .options import LidarOptions
from .plugin import LidarModality
from .tokenizer import BevTokenizer

__all__ = ["BevTokenizer", "LidarModality", "LidarOptions"]
