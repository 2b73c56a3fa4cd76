"""The LiDAR training augmentation: mirror / rotation of each scan, keyed by sample id."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from modalities.lidar.augment import augment_points, scan_transforms
from modalities.lidar.options import LidarOptions
from modalities.lidar.pillars import concat_clouds
from modalities.lidar.tokenizer import BevTokenizer

from .scans import parking_lot

OPTS = LidarOptions(point_range=[0.0, -12.8, -3.0, 25.6, 12.8, 1.0], pillar_size=[0.8, 0.8], patch=4,
                    pillar_channels=8)


def _batch(n: int = 3) -> dict:
    return concat_clouds([torch.from_numpy(parking_lot(np.random.default_rng(i))[0]) for i in range(n)])


def test_augment__off_by_default_returns_the_batch():
    batch = _batch(2)
    tok = BevTokenizer(OPTS, dim=8)
    assert tok.augment(batch, torch.tensor([0, 1]), step=3, seed=0) is batch


def test_augment__mirror_is_y_to_minus_y_and_rotation_turns_xy():
    pts = torch.tensor([[3.0, 1.0, -0.5, 0.2], [2.0, -4.0, 0.1, 0.9]])
    rows = torch.tensor([0, 1])
    out = augment_points(pts, rows, torch.tensor([True, False]), torch.tensor([0.0, math.radians(30.0)]))
    c, s = math.cos(math.radians(30.0)), math.sin(math.radians(30.0))
    want = torch.tensor([[3.0, -1.0, -0.5, 0.2], [c * 2.0 + s * 4.0, s * 2.0 - c * 4.0, 0.1, 0.9]])
    torch.testing.assert_close(out, want)


def test_augment__draws_keyed_by_seed_step_and_sample_id():
    ids = torch.arange(64)
    mirror, angle = scan_transforms(ids, step=7, seed=1, flip=True, rotate_deg=15.0)
    sub_m, sub_a = scan_transforms(ids[[5, 40]], step=7, seed=1, flip=True, rotate_deg=15.0)
    assert torch.equal(sub_m, mirror[[5, 40]]) and torch.equal(sub_a, angle[[5, 40]])
    assert 16 < int(mirror.sum()) < 48  # about half mirrored
    assert float(angle.abs().max()) <= math.radians(15.0) and float(angle.std()) > math.radians(5.0)
    other_m, other_a = scan_transforms(ids, step=8, seed=1, flip=True, rotate_deg=15.0)
    assert not torch.equal(other_a, angle)
    none_m, none_a = scan_transforms(ids, step=7, seed=1, flip=False, rotate_deg=0.0)
    assert not none_m.any() and not none_a.any()


def test_augment__tokenizer_sees_the_mirrored_scan():
    opts = dataclasses.replace(OPTS, augment_flip=True)
    tok = BevTokenizer(opts, dim=8).eval()
    batch = _batch(3)
    ids = torch.arange(3) + 100
    step = next(t for t in range(50) if 0 < int(scan_transforms(ids, t, 0, True, 0.0)[0].sum()) < 3)
    mirror, _ = scan_transforms(ids, step, 0, True, 0.0)
    out = tok.augment(batch, ids, step=step, seed=0)
    by_hand = batch["points"].clone()
    by_hand[:, 1] = torch.where(mirror[batch["batch"]], -by_hand[:, 1], by_hand[:, 1])
    torch.testing.assert_close(out["points"], by_hand)
    assert torch.equal(out["batch"], batch["batch"]) and torch.equal(out["index"], batch["index"])
    one_side = {**batch, "points": batch["points"][batch["points"][:, 1] > 1.0],
                "batch": batch["batch"][batch["points"][:, 1] > 1.0]}
    with torch.no_grad():  # which patches hold points: the original's grid mirrored along y
        types = tok(tok.augment(one_side, ids, step=step, seed=0)).types.view(3, 8, 8)
        plain = tok(one_side).types.view(3, 8, 8)
    for i in range(3):
        assert torch.equal(types[i], plain[i].flip(0) if mirror[i] else plain[i])
    assert not torch.equal(plain[0], plain[0].flip(0))


def test_augment__bad_angle_is_a_clear_error():
    with pytest.raises(ValueError, match="augment_rotate"):
        BevTokenizer(dataclasses.replace(OPTS, augment_rotate=-5.0), dim=8)
