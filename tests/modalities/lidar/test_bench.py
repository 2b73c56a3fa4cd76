"""The LiDAR benchmark runs in quick mode and writes its JSON."""

from __future__ import annotations

import json

from modalities.lidar.bench import run


def test_bench__quick_writes_json(tmp_path):
    result = run("cpu", tmp_path, quick=True)
    saved = json.loads((tmp_path / "lidar.json").read_text())
    assert saved["benchmark"] == "lidar"
    for key in ("read", "pillarize", "bev_scatter"):
        assert saved[key]["points_per_s"] > 0
    assert result["train"]["samples_per_s"] > 0 and result["pipeline_points_per_s"] > 0
