"""Bad clips: each a DataError naming the file and what is wrong."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from jepa_core.modality import DataError
from modalities.video.options import VideoOptions
from modalities.video.readers import list_clips

from .clips import moving_clip, write_audio, write_frames, write_npy, write_video

OPTS = VideoOptions(image_size=16, patch_size=4, frames_per_clip=4)


def _error(path) -> str:
    with pytest.raises(DataError) as e:
        list_clips(path, OPTS)
    return str(e.value)


def test_bad_inputs__truncated_and_undecodable_videos(tmp_path):
    video = write_video(tmp_path / "cut.mp4", moving_clip(6))
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    msg = _error(video)
    assert "cut.mp4" in msg and "truncated or undecodable" in msg
    junk = tmp_path / "junk.webm"
    junk.write_bytes(b"not a video at all" * 20)
    assert "junk.webm" in _error(junk) and "undecodable" in _error(junk)


def test_bad_inputs__no_video_stream(tmp_path):
    audio = write_audio(tmp_path / "sound.mp4")
    msg = _error(audio)
    assert "sound.mp4" in msg and "no video stream" in msg and "audio" in msg


def test_bad_inputs__variable_frame_size_in_a_frame_folder(tmp_path):
    folder = write_frames(tmp_path / "clip", moving_clip(3))
    write_frames(tmp_path / "other", moving_clip(1, size=20), names=["frame_3.png"])
    (tmp_path / "other" / "frame_3.png").rename(folder / "frame_3.png")
    msg = _error(tmp_path / "clip")
    assert "clip" in msg and "variable frame size" in msg and "frame_3.png is 20x20" in msg


def test_bad_inputs__clip_shorter_than_one_tubelet(tmp_path):
    msg = _error(write_npy(tmp_path / "one.npy", moving_clip(1)))
    assert "one.npy" in msg and "shorter than one tubelet" in msg


def test_bad_inputs__npy_wrong_rank_or_dtype(tmp_path):
    rank = _error(write_npy(tmp_path / "frame.npy", moving_clip(2)[0]))
    assert "frame.npy" in rank and "rank 3" in rank
    dtype = _error(write_npy(tmp_path / "float.npy", moving_clip(2).astype(np.float32)))
    assert "float.npy" in dtype and "uint8" in dtype and "float32" in dtype


def test_bad_inputs__pyav_missing(tmp_path, monkeypatch):
    video = write_video(tmp_path / "v.mp4", moving_clip(4))
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now raises ImportError
    msg = _error(video)
    assert "v.mp4" in msg and "needs PyAV" in msg and "jepa-core[video]" in msg


def test_bad_inputs__empty_folder_and_unknown_file(tmp_path):
    (tmp_path / "empty").mkdir()
    assert "empty" in _error(tmp_path / "empty") and "no clips found" in _error(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("x")
    assert "notes.txt" in _error(tmp_path / "notes.txt")


def test_bad_labels__messages_speak_of_clips(tmp_path):
    from jepa_core.config import build_config, parse_overrides
    from modalities.video.plugin import VideoModality

    for name in ("a", "b"):
        write_npy(tmp_path / "data" / f"{name}.npy", moving_clip(4))
    plugin = VideoModality()
    cfg = build_config({"modality": "video"}, plugin.default_config(),
                       parse_overrides(["options.image_size=16", "options.patch_size=4",
                                        "options.frames_per_clip=4"]))
    _, state = plugin.load(str(tmp_path / "data"), cfg, None)
    (tmp_path / "labels.csv").write_text("path,label\na.npy,x\nnope.npy,y\n")
    with pytest.raises(DataError) as e:
        plugin.probe_data(str(tmp_path / "data"), str(tmp_path / "labels.csv"), None, cfg, state)
    assert str(e.value) == (f"{tmp_path / 'labels.csv'}, line 3: 'nope.npy' is not a clip under "
                            f"{tmp_path / 'data'} (paths are relative to the data folder)")
    with pytest.raises(DataError, match=r"a flat folder\): put each class's clips in .*<class>/"):
        plugin.probe_data(str(tmp_path / "data"), "folder", None, cfg, state)


def test_bad_inputs__grid_too_small_for_the_masks_names_the_options(tmp_path):
    from jepa_core.config import build_config, parse_overrides
    from modalities.video.plugin import VideoModality

    write_npy(tmp_path / "data" / "a.npy", moving_clip(8))
    plugin = VideoModality()
    cfg = build_config({"modality": "video"}, plugin.default_config(),
                       parse_overrides(["options.image_size=8", "options.patch_size=8"]))
    with pytest.raises(DataError) as e:
        plugin.load(str(tmp_path / "data"), cfg, None)
    assert str(e.value).startswith("clips of options.frames_per_clip=8 frames at options.image_size=8 px, "
                                   "cut into 2 x 8 x 8 tubelets (options.tubelet_size, options.patch_size), "
                                   "make a 4 x 1 x 1 token grid, too small for the vjepa masks (")
