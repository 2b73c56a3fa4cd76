"""Scan folders are read lazily: checked up front, decoded per item, bounded memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from jepa_core.config import build_config
from jepa_core.modality import DataError
from jepa_core.run import RunDir, build_model
from jepa_core.train import DistEnv, EpochBatches, Trainer
from jepa_core.train.checkpoint import latest_checkpoint, load_checkpoint
from modalities.lidar.plugin import LidarModality

#: The small grid of test_cli.py (32 x 32 pillars, 8 x 8 tokens) and a one-block model.
SMALL = {"options": {"point_range": [0, -12.8, -3, 25.6, 12.8, 1], "pillar_size": [0.8, 0.8],
                     "patch": 4, "pillar_channels": 8},
         "model": {"dim": 16, "depth": 1, "heads": 2, "predictor_dim": 16, "predictor_depth": 1,
                   "predictor_heads": 2},
         "logging": {"progress": False}}
SMALL_SETS = [f"{section}.{key}={json.dumps(value)}" for section, values in SMALL.items()
              for key, value in values.items()]


def _points(rng: np.random.Generator, n: int = 64) -> np.ndarray:
    """``[n, 4]`` float32 points spread over the SMALL range."""
    return np.c_[rng.uniform(0, 25, n), rng.uniform(-12, 12, n), rng.uniform(-2.5, 0.5, n),
                 rng.uniform(0, 1, n)].astype(np.float32)


def _scans(folder, count: int, points: int = 64, seed: int = 0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        _points(rng, points).tofile(folder / f"{i:06d}.bin")
    return folder


def _cfg(**sections):
    plugin = LidarModality()
    layers = [plugin.default_config(), {"modality": "lidar", **SMALL}, sections]
    return plugin, build_config(*layers)


def test_scan_dataset__decodes_each_scan_when_it_is_read(tmp_path):
    scans = _scans(tmp_path / "scans", 2)
    plugin, cfg = _cfg()
    dataset, _ = plugin.load(str(scans), cfg, None)
    fresh = _points(np.random.default_rng(9))
    fresh.tofile(scans / "000000.bin")  # changed after listing: the item is what the file holds now
    torch.testing.assert_close(dataset[0]["points"], torch.from_numpy(fresh))
    assert int(dataset[1]["index"]) == 1


@pytest.mark.parametrize("name, write, message", [
    ("short.npy", lambda p: p.write_bytes(_npy_header((100, 4)) + b"\0" * 64), r"short\.npy: .*promises"),
    ("flat.npy", lambda p: np.save(p, np.zeros(12, np.float32)), r"flat\.npy: expected a numeric \[N, 3\+\]"),
    ("empty.bin", lambda p: p.write_bytes(b""), r"empty\.bin: the point cloud is empty"),
    ("odd.bin", lambda p: p.write_bytes(b"\0" * 20), r"odd\.bin: 20 bytes is not a multiple"),
])
def test_load__sizes_and_headers_checked_before_training(tmp_path, name, write, message):
    scans = _scans(tmp_path / "scans", 2)
    write(scans / name)
    plugin, cfg = _cfg()
    with pytest.raises(DataError, match=message):
        plugin.load(str(scans), cfg, None)


def _npy_header(shape) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue()


def test_fit__scan_deleted_mid_run_stops_with_a_data_error_and_the_checkpoint_intact(tmp_path):
    scans = _scans(tmp_path / "scans", 8)
    plugin, cfg = _cfg(data={"batch_size": 4, "num_workers": 2}, optim={"steps": 6},
                       logging={"checkpoint_every": 2, "log_every": 100})
    dataset, state = plugin.load(str(scans), cfg, None)
    run = RunDir(tmp_path / "run")
    run.write(cfg, state)
    victim = scans / "000005.bin"

    class DeleteAfterFirstEpoch(EpochBatches):
        def iterate(self, start, end):
            for item in super().iterate(start, end):
                yield item
                if item[0] == self.steps_per_epoch - 1:
                    victim.unlink()  # between listing and the next epoch's read

    env = DistEnv()
    batches = DeleteAfterFirstEpoch(dataset, plugin.collate, 4, env, cfg.optim.seed, num_workers=2)
    trainer = Trainer(build_model(cfg, plugin, state), cfg, batches, run, env, torch.device("cpu"))
    with pytest.raises(DataError) as info:
        trainer.fit()
    message = str(info.value)
    assert message.startswith(f"{victim}: cannot be read") and "Traceback" not in message
    assert "last good checkpoint (step 2)" in message
    assert latest_checkpoint(run.checkpoints) == "step-00000002"
    assert load_checkpoint(run.checkpoints)[2]["step"] == 2


#: Pretrain a few steps on a folder; print the process's peak resident memory (kB).
_PEAK_RSS = """
import sys
from jepa_core import cli
code = cli.main(sys.argv[1:])
status = open("/proc/self/status").read()
print("VmHWM", code, int(status.split("VmHWM:")[1].split()[0]))
"""


def _peak_rss_kb(tmp_path, folder, tag: str) -> int:
    args = ["pretrain", "lidar", "--data", str(folder), "--out", str(tmp_path / f"run-{tag}"),
            "--steps", "2", *[x for s in SMALL_SETS for x in ("--set", s)]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS, *args], capture_output=True, text=True,
                          env=env, timeout=300)
    line = [x for x in proc.stdout.splitlines() if x.startswith("VmHWM")]
    assert proc.returncode == 0 and line and line[-1].split()[1] == "0", proc.stderr[-3000:]
    return int(line[-1].split()[2])


def test_pretrain__memory_does_not_grow_with_the_number_of_scans(tmp_path):
    # 512 points (8 KiB) per scan: scans held in memory would cost 20k x 8 KiB = 160 MiB more
    # for the big folder; a lazy dataset holds only the file list (well under 1 KiB a file).
    big = _scans(tmp_path / "big", 20_000, points=512)
    small = tmp_path / "small"
    small.mkdir()
    for f in sorted(big.iterdir())[:2_000]:
        os.link(f, small / f.name)
    small_kb = _peak_rss_kb(tmp_path, small, "small")
    big_kb = _peak_rss_kb(tmp_path, big, "big")
    per_file = (big_kb - small_kb) * 1024 / 18_000
    assert per_file < 2048, f"peak RSS grew by {per_file:.0f} bytes per scan ({small_kb} -> {big_kb} kB)"
