"""Reading clips: arrays, frame folders and videos round-trip; windows, padding and looping."""

from __future__ import annotations

import numpy as np
import pytest

from modalities.video.dataset import VideoDataset
from modalities.video.options import VideoOptions
from modalities.video.readers import find_clips, list_clips

from .clips import moving_clip, write_frames, write_npy, write_video

OPTS = dict(image_size=16, patch_size=4, frames_per_clip=4, crop_window=6)


def _dataset(path, **kw):
    opts = VideoOptions(**{**OPTS, **kw})
    return VideoDataset(list_clips(path, opts), opts, str(path))


def test_readers__npy_and_npz_round_trip(tmp_path):
    clip = moving_clip(6)
    write_npy(tmp_path / "a.npy", clip)
    np.savez(tmp_path / "b.npz", video=clip)
    ds = _dataset(tmp_path)
    assert [it.kind for it in ds.items] == ["array", "array"]
    for i in range(2):
        item = ds[i]
        assert item["frames"] == 6 and item["error"] == ""
        assert np.array_equal(item["video"].permute(0, 2, 3, 1).numpy(), clip)


def test_readers__frame_folder_in_name_order(tmp_path):
    clip = moving_clip(12)
    write_frames(tmp_path / "clip", clip)  # frame_0 ... frame_11: frame_10 sorts after frame_9
    ds = _dataset(tmp_path, crop_window=12)
    assert [it.kind for it in ds.items] == ["frames"] and ds.items[0].num_frames == 12
    assert np.array_equal(ds[0]["video"].permute(0, 2, 3, 1).numpy(), clip)


def test_readers__video_file_decodes_every_frame(tmp_path):
    clip = moving_clip(6)
    write_video(tmp_path / "v.mp4", clip)
    ds = _dataset(tmp_path)
    assert ds.items[0].kind == "video" and ds.items[0].num_frames == 6
    got = ds[0]["video"].permute(0, 2, 3, 1).numpy().astype(float)
    assert got.shape == clip.shape and np.abs(got - clip).mean() < 12  # lossy codec


def test_readers__frame_step_windows_and_short_clips(tmp_path):
    clip = np.arange(20, dtype=np.uint8)[:, None, None, None].repeat(16, 1).repeat(16, 2).repeat(3, 3)
    write_npy(tmp_path / "long.npy", clip)
    ds = _dataset(tmp_path, frame_step=2, clips_per_video=2, crop_window=4)  # 10 sampled frames
    assert [it.start for it in ds.items] == [1, 4]
    assert ds[0]["video"][:, 0, 0, 0].tolist() == [2, 4, 6, 8]
    write_npy(tmp_path / "short" / "s.npy", clip[:3])
    pad = _dataset(tmp_path / "short", short="pad")[0]
    assert pad["frames"] == 3 and pad["video"][:, 0, 0, 0].tolist() == [0, 1, 2, 2, 2, 2]
    loop = _dataset(tmp_path / "short", short="loop")[0]
    assert loop["frames"] == 4 and loop["video"][:, 0, 0, 0].tolist() == [0, 1, 2, 0, 0, 0]


def test_readers__frames_are_resized_and_images_are_one_frame_clips(tmp_path):
    write_frames(tmp_path / "imgs" / "a", moving_clip(2, size=32))
    assert [k for _, k in find_clips(tmp_path / "imgs")] == ["frames"]
    ds = _dataset(f"images:{tmp_path / 'imgs'}")
    assert [it.kind for it in ds.items] == ["image", "image"]
    item = ds[1]
    assert item["frames"] == 1 and tuple(item["video"].shape) == (6, 3, 16, 16)
    with pytest.raises(ValueError, match="no such file"):
        find_clips(tmp_path / "missing")
