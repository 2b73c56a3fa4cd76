"""The trajectory format: collect writes it, windows stay inside episodes, bad files fail clearly."""

import numpy as np
import pytest

from jepa_core.modality import DataError
from modalities.world.collect import collect
from modalities.world.trajectories import WindowDataset, list_episodes, write_episode


def test_collect__writes_the_format(tmp_path):
    summary = collect("two-room", episodes=3, steps=5, out=tmp_path, progress=False)
    files = sorted(tmp_path.glob("*.npz"))
    assert len(files) == 3 and summary["episodes"] == 3
    with np.load(files[0]) as f:
        assert f["observations"].shape == (5, 32, 32, 3) and f["observations"].dtype == np.uint8
        assert f["actions"].shape == (5, 2) and np.abs(f["actions"]).max() <= 1
        assert f["rewards"].shape == (5,) and f["terminals"].dtype == bool
        assert f["states"].shape == (5, 2)  # the agent position, from info["state"]
    eps = list_episodes(tmp_path)
    assert eps.pixels and eps.action_dim == 2 and len(eps.episodes) == 3


def test_windows__never_cross_episode_ends(tmp_path):
    # a shard of three episodes; every state holds (episode id, step)
    lengths = [5, 7, 6]
    obs = np.concatenate([np.stack([np.full(n, e), np.arange(n)], 1) for e, n in enumerate(lengths)])
    act = obs.copy()
    np.savez(tmp_path / "shard.npz", observations=obs.astype(np.float32), actions=act.astype(np.float32),
             episode_lengths=np.array(lengths))
    ds = WindowDataset(list_episodes(tmp_path), window=4, frame_skip=1)
    assert len(ds) == sum(n - 4 + 1 for n in lengths)
    for i in range(len(ds)):
        o = ds[i]["obs"].numpy()
        assert len(set(o[:, 0])) == 1  # one episode
        assert np.array_equal(np.diff(o[:, 1]), np.ones(3))  # consecutive steps


def test_windows__frame_skip_chunks_the_actions(tmp_path):
    t = np.arange(12, dtype=np.float32)
    write_episode(tmp_path / "e.npz", np.stack([t, t], 1), np.stack([t, -t], 1))
    ds = WindowDataset(list_episodes(tmp_path), window=3, frame_skip=2)
    s = ds[0]
    assert s["obs"][:, 0].tolist() == [0, 2, 4]
    assert s["actions"].tolist()[0] == [0, 0, 1, -1]  # the two actions between frames 0 and 2
    assert len(ds) == 12 - 6 + 1


def test_bad_input__mismatched_T(tmp_path):
    write_episode(tmp_path / "bad.npz", np.zeros((6, 2), np.float32), np.zeros((5, 2), np.float32))
    with pytest.raises(DataError, match=r"bad.npz.*T=6.*'actions' has 5"):
        list_episodes(tmp_path)


def test_bad_input__nan_actions(tmp_path):
    a = np.zeros((6, 2), np.float32)
    a[3, 1] = np.nan
    write_episode(tmp_path / "nan.npz", np.zeros((6, 2), np.float32), a)
    with pytest.raises(DataError, match=r"nan.npz.*NaN/inf \(first at step 3\)"):
        list_episodes(tmp_path)


def test_bad_input__missing_key_and_wrong_image_dtype(tmp_path):
    np.savez(tmp_path / "nokey.npz", observations=np.zeros((4, 2)))
    with pytest.raises(DataError, match="nokey.npz: missing 'actions'"):
        list_episodes(tmp_path / "nokey.npz")
    np.savez(tmp_path / "float_img.npz", observations=np.zeros((4, 8, 8, 3)), actions=np.zeros((4, 2)))
    with pytest.raises(DataError, match="float_img.npz.*must be uint8"):
        list_episodes(tmp_path / "float_img.npz")


def test_bad_input__short_episodes_skipped_with_a_count_error_if_none_left(tmp_path):
    write_episode(tmp_path / "long.npz", np.zeros((8, 2), np.float32), np.zeros((8, 2), np.float32))
    write_episode(tmp_path / "short.npz", np.zeros((3, 2), np.float32), np.zeros((3, 2), np.float32))
    with pytest.warns(UserWarning, match="skipped 1 of 2 episodes"):
        ds = WindowDataset(list_episodes(tmp_path), window=5)
    assert ds.skipped == 1 and len(ds.episodes) == 1
    with pytest.raises(DataError, match="all 2 episodes are shorter than a window"):
        WindowDataset(list_episodes(tmp_path), window=9)


def test_bad_input__empty_or_truncated_file_is_one_error_naming_it(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty.npz: empty file \(0 bytes\)"):
        list_episodes(tmp_path / "empty.npz")
    write_episode(tmp_path / "whole.npz", np.zeros((6, 2), np.float32), np.zeros((6, 2), np.float32))
    data = (tmp_path / "whole.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[:len(data) // 2])
    with pytest.raises(DataError, match=r"cut.npz: not a readable .npz trajectory file"):
        list_episodes(tmp_path / "cut.npz")


def test_bad_input__frames_damaged_past_the_headers_are_one_error_naming_the_file(tmp_path):
    import zipfile

    path = tmp_path / "pix.npz"
    pixels = np.random.default_rng(0).integers(0, 256, (40, 32, 32, 3), dtype=np.uint8)
    write_episode(path, pixels, np.zeros((40, 2), np.float32))
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("observations.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 60_000  # in the pixels
    data[start:start + 50] = b"\xff" * 50
    path.write_bytes(bytes(data))
    ds = WindowDataset(list_episodes(path), window=3)  # listing reads the pixel header only
    with pytest.raises(DataError, match=r"pix.npz: cannot read the episode at step 0 \("):
        ds[0]
