"""End to end through ``jepa``: pretrain, embed and probe on simulated and hand-written scans."""

from __future__ import annotations

import json

import numpy as np

from modalities.lidar import demo
from modalities.lidar.simulator import SensorSpec
from tests.helpers import run_cli

from .scans import parking_lot, tiny_demo, write_pcd

#: A small grid and model so each command runs in seconds on 2 cores.
SMALL = ["--set", "options.point_range=[0,-12.8,-3,25.6,12.8,1]", "--set", "options.pillar_size=[0.8,0.8]",
         "--set", "options.patch=4", "--set", "options.pillar_channels=8", "--set", "model.dim=16",
         "--set", "model.depth=1", "--set", "model.heads=2", "--set", "model.predictor_dim=16",
         "--set", "model.predictor_depth=1", "--set", "model.predictor_heads=2",
         "--set", "logging.progress=false"]


def _ok(proc) -> str:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_cli__pretrain_probe_on_simulated_scans(tmp_path):
    root = tiny_demo(tmp_path / "demo", num_scans=4)
    run = tmp_path / "run"
    _ok(run_cli("pretrain", "lidar", "--data", str(root / "velodyne"), "--out", str(run),
                "--steps", "2", "--batch-size", "2", *SMALL))
    res = json.loads(_ok(run_cli("probe", str(run), "--data", str(root / "velodyne"),
                                 "--label", str(root / "labels"), "--c", "auto")).strip().splitlines()[-1])
    assert res["metric"] == "miou" and all(0 <= res[k] <= 1 for k in ("pretrained", "random_init", "raw"))


def test_cli__hand_written_scans_in_mixed_formats(tmp_path):
    scans, labels = tmp_path / "scans", tmp_path / "labels"
    scans.mkdir()
    labels.mkdir()
    for i in range(4):
        pts, lab = parking_lot(np.random.default_rng(100 + i), rows=2 + i % 2)
        if i % 3 == 0:
            pts.tofile(scans / f"lot{i}.bin")
        elif i % 3 == 1:
            np.save(scans / f"lot{i}.npy", pts)
        else:
            write_pcd(scans / f"lot{i}.pcd", pts, binary=i % 2 == 0)
        np.save(labels / f"lot{i}.npy", lab)
    run = tmp_path / "run"
    _ok(run_cli("pretrain", "lidar", "--data", str(scans), "--out", str(run), "--steps", "2",
                "--batch-size", "2", *SMALL))
    out = json.loads(_ok(run_cli("embed", str(run), "--data", str(scans), "--out",
                                 str(tmp_path / "emb.npy"))).strip().splitlines()[-1])
    assert np.load(tmp_path / "emb.npy").shape == (4, 64, 16) == tuple(out["shape"])  # [S, H'*W', D]
    res = json.loads(_ok(run_cli("probe", str(run), "--data", str(scans), "--label", str(labels)))
                     .strip().splitlines()[-1])
    assert res["raw"] is not None and res["pretrained"] is not None


def test_cli__folder_without_scans_fails_before_training(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = run_cli("pretrain", "lidar", "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "r"),
                   "--steps", "1")
    assert proc.returncode != 0
    assert "holds no readable scans" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_root__generated_once_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("JEPA_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(demo, "SensorSpec", lambda: SensorSpec(beams=4, azimuths=64))
    root = demo.demo_root(num_scans=2)
    assert sorted(p.name for p in (root / "velodyne").iterdir()) == ["000000.bin", "000001.bin"]
    stamp = (root / "velodyne" / "000000.bin").stat().st_mtime_ns
    assert demo.demo_root(num_scans=2) == root
    assert (root / "velodyne" / "000000.bin").stat().st_mtime_ns == stamp


def test_cli__demo_run_prints_and_accepts_its_probe_command(tmp_path):
    cache = tmp_path / "cache"
    root = tiny_demo(cache / "lidar_demo_v1_4_0", num_scans=4)  # laid out like the cached demo
    env = {"JEPA_CACHE_DIR": str(cache)}
    run = tmp_path / "run"
    proc = run_cli("pretrain", "lidar", "--data", str(root / "velodyne"), "--out", str(run),
                   "--steps", "2", "--batch-size", "2", *SMALL, env=env)
    _ok(proc)
    assert f"probe it: jepa probe {run} --label {root / 'labels'} --c auto" in proc.stderr
    proc = run_cli("probe", str(run), env=env)  # neither --data nor --label
    res = json.loads(_ok(proc).strip().splitlines()[-1])
    assert res["metric"] == "miou" and f"--label {root / 'labels'}" in proc.stderr


def test_demo_label__only_for_the_cached_demo_layout(tmp_path, monkeypatch):
    from modalities.lidar import LidarModality

    monkeypatch.setenv("JEPA_CACHE_DIR", str(tmp_path / "cache"))
    plugin = LidarModality()
    demo_dir = tmp_path / "cache" / "lidar_demo_v1_96_0"
    other = tmp_path / "mine"
    for root in (demo_dir, other):
        (root / "velodyne").mkdir(parents=True)
        (root / "labels").mkdir()
    assert plugin.demo_label(str(demo_dir / "velodyne")) == str((demo_dir / "labels").resolve())
    assert plugin.demo_label(str(other / "velodyne")) is None
    assert plugin.demo_label(None) is None


def test_cli__online_probe_logs_miou_and_plot_draws_it(tmp_path):
    root = tiny_demo(tmp_path / "demo", num_scans=8)
    run = tmp_path / "run"
    _ok(run_cli("pretrain", "lidar", "--data", str(root / "velodyne"), "--out", str(run),
                "--steps", "2", "--batch-size", "2", "--probe-label", str(root / "labels"),
                "--set", "logging.probe=linear", "--set", "logging.probe_every=1", *SMALL))
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    probed = [r for r in rows if "probe_miou" in r]
    assert [r["step"] for r in probed] == [0, 1, 2]
    assert all(0 <= r["probe_miou"] <= 1 for r in probed)
    assert _ok(run_cli("plot", str(run))).strip() == str(run / "metrics.png")
    assert (run / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
