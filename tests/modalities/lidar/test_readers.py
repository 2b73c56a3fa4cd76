"""Readers: every format, and a clear error naming the file for every bad input."""

from __future__ import annotations

import numpy as np
import pytest

from jepa_core.modality import DataError
from modalities.lidar.dataset import find_scans, load_cropped
from modalities.lidar.headers import check_scan_file
from modalities.lidar.options import LidarOptions
from modalities.lidar.readers import read_labels, read_scan

from .scans import parking_lot, write_las, write_pcd


@pytest.fixture
def cloud() -> np.ndarray:
    return parking_lot(np.random.default_rng(0))[0][:500]


def test_read_scan__kitti_bin(tmp_path, cloud):
    cloud.tofile(tmp_path / "a.bin")
    np.testing.assert_array_equal(read_scan(tmp_path / "a.bin"), cloud)


def test_read_scan__nuscenes_bin_five_columns(tmp_path, cloud):
    five = np.c_[cloud[:, :3], cloud[:, 3:] * 255, np.arange(len(cloud)) % 32].astype(np.float32)
    five.tofile(tmp_path / "a.bin")
    out = read_scan(tmp_path / "a.bin", bin_columns=5)
    np.testing.assert_allclose(out, cloud, atol=1e-6)  # 0-255 intensity scaled to [0, 1]


def test_read_scan__npy_three_columns(tmp_path, cloud):
    np.save(tmp_path / "a.npy", cloud[:, :3].astype(np.float64))
    out = read_scan(tmp_path / "a.npy")
    np.testing.assert_allclose(out[:, :3], cloud[:, :3])
    assert (out[:, 3] == 0).all()


@pytest.mark.parametrize("binary", [True, False])
def test_read_scan__pcd(tmp_path, cloud, binary):
    write_pcd(tmp_path / "a.pcd", cloud, binary=binary)
    np.testing.assert_allclose(read_scan(tmp_path / "a.pcd"), cloud, atol=1e-5)


def test_read_scan__pcd_mixed_types_and_counts(tmp_path, cloud):
    rows = np.zeros(len(cloud), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<u1", (3,)),
                                       ("intensity", "<f8"), ("ring", "<u2")])
    rows["x"], rows["y"], rows["z"], rows["intensity"] = cloud[:, 0], cloud[:, 1], cloud[:, 2], cloud[:, 3]
    header = ("VERSION 0.7\nFIELDS x y z rgb intensity ring\nSIZE 4 4 4 1 8 2\nTYPE F F F U F U\n"
              f"COUNT 1 1 1 3 1 1\nWIDTH {len(cloud)}\nHEIGHT 1\nPOINTS {len(cloud)}\nDATA binary\n")
    (tmp_path / "a.pcd").write_bytes(header.encode() + rows.tobytes())
    np.testing.assert_allclose(read_scan(tmp_path / "a.pcd"), cloud, atol=1e-5)


def test_read_scan__las(tmp_path, cloud):
    pytest.importorskip("laspy")
    write_las(tmp_path / "a.las", cloud)
    out = read_scan(tmp_path / "a.las")
    np.testing.assert_allclose(out[:, :3], cloud[:, :3], atol=1e-3)
    np.testing.assert_allclose(out[:, 3], cloud[:, 3], atol=1e-4)


def test_read_labels__semantickitti_low_16_bits(tmp_path):
    raw = (np.array([3, 7, 0], dtype=np.uint32) << 16) | np.array([10, 40, 0], dtype=np.uint32)
    raw.tofile(tmp_path / "a.label")
    assert read_labels(tmp_path / "a.label", 3).tolist() == [10, 40, 0]


def test_read_scan__bin_size_not_multiple_of_row(tmp_path):
    np.zeros(10, dtype=np.float32).tofile(tmp_path / "bad.bin")
    with pytest.raises(DataError, match=r"bad\.bin.*not a multiple of the 16-byte row"):
        read_scan(tmp_path / "bad.bin")


def test_read_scan__empty_cloud(tmp_path):
    (tmp_path / "empty.bin").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.bin.*empty"):
        read_scan(tmp_path / "empty.bin")


def test_read_scan__nan_rows_dropped_with_warning(tmp_path, cloud):
    bad = cloud.copy()
    bad[3, 0], bad[5, 2] = np.nan, np.inf
    bad.tofile(tmp_path / "nan.bin")
    with pytest.warns(UserWarning, match=r"nan\.bin: dropped 2 of 500"):
        out, kept = read_scan(tmp_path / "nan.bin", with_mask=True)
    assert len(out) == 498 and not kept[3] and not kept[5]


def test_read_scan__all_nan(tmp_path):
    np.full((4, 4), np.nan, dtype=np.float32).tofile(tmp_path / "nan.bin")
    with pytest.raises(DataError, match=r"nan\.bin.*nothing is left"):
        read_scan(tmp_path / "nan.bin")


def test_load_cropped__all_points_outside_range(tmp_path, cloud):
    far = cloud.copy()
    far[:, 0] -= 500
    far.tofile(tmp_path / "far.bin")
    with pytest.raises(DataError, match=r"far\.bin: all 500 points lie outside options.point_range"):
        load_cropped(tmp_path / "far.bin", LidarOptions())


def test_read_scan__pcd_unsupported_field_type(tmp_path, cloud):
    write_pcd(tmp_path / "half.pcd", cloud, types="F F F F", sizes="4 4 4 2")
    with pytest.raises(DataError, match=r"half\.pcd.*unsupported TYPE F SIZE 2"):
        read_scan(tmp_path / "half.pcd")


def test_read_scan__pcd_compressed(tmp_path, cloud):
    write_pcd(tmp_path / "lzf.pcd", cloud, data="binary_compressed")
    with pytest.raises(DataError, match=r"lzf\.pcd.*binary_compressed is not supported"):
        read_scan(tmp_path / "lzf.pcd")


def test_read_scan__pcd_ascii_with_fewer_rows_than_its_header(tmp_path, cloud):
    path = write_pcd(tmp_path / "cut.pcd", cloud, binary=False)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-2]) + "\n")  # the last two points lost
    with pytest.raises(DataError, match=rf"cut\.pcd: PCD header promises {len(cloud)} points but "
                                        rf"the ascii data holds {len(cloud) - 2} rows"):
        read_scan(path)


def test_read_scan__pcd_point_count_not_a_number(tmp_path, cloud):
    path = write_pcd(tmp_path / "odd.pcd", cloud)
    path.write_bytes(path.read_bytes().replace(f"POINTS {len(cloud)}".encode(), b"POINTS many"))
    with pytest.raises(DataError, match=r"odd\.pcd: PCD header POINTS/WIDTH/HEIGHT is not a whole number"):
        read_scan(path)
    with pytest.raises(DataError, match=r"odd\.pcd: PCD header POINTS/WIDTH/HEIGHT is not a whole number"):
        check_scan_file(path)


def test_find_scans__folder_without_scans(tmp_path):
    (tmp_path / "notes.txt").write_text("no scans here")
    with pytest.raises(DataError, match="holds no readable scans"):
        find_scans(tmp_path, LidarOptions().extensions)


def test_read_labels__count_mismatch(tmp_path):
    np.zeros(5, dtype=np.uint32).tofile(tmp_path / "a.label")
    with pytest.raises(DataError, match=r"a\.label: 5 labels but the scan .*scan\.bin has 7 points"):
        read_labels(tmp_path / "a.label", 7, scan=tmp_path / "scan.bin")


def _nuscenes(cloud: np.ndarray) -> np.ndarray:
    """x, y, z, intensity 0-255, ring index 0-31: nuScenes' five float32 values per point."""
    return np.c_[cloud[:, :3], cloud[:, 3:] * 255, np.arange(len(cloud)) % 32].astype(np.float32)


def test_read_scan__five_column_bin_read_as_four_names_the_option(tmp_path, cloud):
    _nuscenes(cloud).tofile(tmp_path / "nu.bin")  # 500 x 5 floats also divide into 625 x 4
    with pytest.raises(DataError, match=r"nu\.bin: read as 4 float32 values per point .*intensities.*"
                                        r"negative.*set options\.bin_columns=5"):
        read_scan(tmp_path / "nu.bin")


def test_read_scan__four_column_bin_read_as_five_names_the_option(tmp_path, cloud):
    cloud.tofile(tmp_path / "kitti.bin")  # 500 x 4 floats also divide into 400 x 5
    with pytest.raises(DataError, match=r"kitti\.bin: read as 5 .*set options\.bin_columns=4"):
        read_scan(tmp_path / "kitti.bin", bin_columns=5)


def test_read_scan__implausible_intensity_without_other_layout_warns(tmp_path, cloud):
    odd = cloud[:499].copy()  # 499 x 4 floats: no other column count divides them
    odd[:, 3] = -1.0
    odd.tofile(tmp_path / "odd.bin")
    with pytest.warns(UserWarning, match=r"odd\.bin: read as 4 .*100% of the intensities.*"
                                         r"set options\.bin_columns"):
        read_scan(tmp_path / "odd.bin")
