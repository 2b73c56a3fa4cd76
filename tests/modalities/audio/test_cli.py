"""The audio plugin from the command line, on recordings from another generator than the demo's.

pretrain -> embed -> probe (linear and attentive), the normalization saved in the run and
reused, the demo's default probe label, and bad input as one error line. In-process
(``jepa_core.cli.main``) to keep the file fast.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from jepa_core.cli import main as jepa
from jepa_core.run import RunDir

from .sounds import write_other_sounds, write_tone

TINY = ["--set", "model.dim=16", "--set", "model.depth=1", "--set", "model.heads=2",
        "--set", "model.predictor_dim=16", "--set", "model.predictor_depth=1",
        "--set", "model.predictor_heads=2", "--set", "options.clip_seconds=0.5",
        "--set", "options.n_mels=32", "--set", "logging.progress=false"]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """8 FLAC recordings (22.05 kHz stereo) of 2 families; some are longer than a clip."""
    root = tmp_path_factory.mktemp("rec")
    write_other_sounds(root, 4, families=("two_tone", "hits"), seconds=0.5)
    sf.write(root / "hits" / "long.flac", np.random.default_rng(0).uniform(-0.3, 0.3, 26460), 22050)
    return root


def test_cli__pretrain_embed_probe_on_unseen_recordings(recordings, tmp_path, capsys):
    run = tmp_path / "run"
    assert jepa(["pretrain", "audio", "--data", str(recordings), "--out", str(run), "--steps", "3",
                 "--batch-size", "4", "--set", "data.num_workers=2", *TINY]) == 0  # decoded in workers
    err = capsys.readouterr().err
    assert "11 clips of 0.5 s from 9 recordings at 16000 Hz" in err  # long.flac: 1.2 s -> 3 clips
    _, state = RunDir(run).read()
    assert state["std"] > 0 and np.isfinite(state["mean"]) and state["options"]["n_mels"] == 32

    assert jepa(["embed", str(run), "--out", str(tmp_path / "e.npy")]) == 0
    assert np.load(tmp_path / "e.npy").shape == (11, 16)
    capsys.readouterr()
    for kind in ("linear", "attentive"):
        assert jepa(["probe", str(run), "--label", "folder", "--probe", kind]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["metric"] == "accuracy" and {"pretrained", "random_init", "raw"} <= result.keys()
        assert result["raw_probe"] == kind  # attentive: over the per-time-patch raw bands


def test_cli__embedding_uses_the_runs_normalization(recordings, tmp_path, capsys):
    run = tmp_path / "run"
    assert jepa(["pretrain", "audio", "--data", str(recordings), "--out", str(run), "--steps", "1",
                 "--batch-size", "4", "--set", "data.num_workers=0", *TINY]) == 0
    louder = tmp_path / "louder"
    write_other_sounds(louder, 2, families=("two_tone",), seconds=0.5)
    assert jepa(["embed", str(run), "--data", str(louder), "--out", str(tmp_path / "e.npy")]) == 0
    capsys.readouterr()
    before = (run / "modality_state.json").read_text()
    assert jepa(["embed", str(run), "--data", str(louder), "--out", str(tmp_path / "e2.npy")]) == 0
    assert (run / "modality_state.json").read_text() == before  # embedding other data does not refit
    assert np.array_equal(np.load(tmp_path / "e.npy"), np.load(tmp_path / "e2.npy"))
    capsys.readouterr()


def test_cli__bad_inputs_are_one_error_line(tmp_path, capsys):
    data = tmp_path / "d"
    (data / "a").mkdir(parents=True)
    write_tone(data / "a" / "ok.wav", seconds=1.0)
    (data / "a" / "broken.ogg").write_bytes(np.random.default_rng(0).bytes(3000))
    assert jepa(["pretrain", "audio", "--data", str(data), "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "broken.ogg" in err and len(err.strip().splitlines()) == 1
    (data / "a" / "broken.ogg").unlink()
    assert jepa(["pretrain", "audio", "--data", str(data), "--out", str(tmp_path / "r"),
                 "--set", "options.fmax=9000", *TINY]) == 2
    assert "Nyquist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert jepa(["pretrain", "audio", "--data", str(empty), "--out", str(tmp_path / "r2"), *TINY]) == 2
    assert "no audio files" in capsys.readouterr().err


def test_cli__demo_pretrain_then_probe_without_a_label(tmp_path, monkeypatch, capsys):
    import modalities.audio.plugin as audio_plugin
    from modalities.audio.demo import demo_root

    monkeypatch.setenv("JEPA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(audio_plugin, "demo_root", lambda: demo_root(per_class=2))  # 16 recordings, not 640
    run = tmp_path / "demo"
    assert jepa(["pretrain", "audio", "--out", str(run), "--steps", "1", "--batch-size", "4",
                 "--set", "data.num_workers=0", *TINY]) == 0
    assert "64 clips of 0.5 s from 16 recordings" in capsys.readouterr().err  # 2 s each
    assert jepa(["probe", str(run), "--probe", "knn"]) == 0
    out = capsys.readouterr()
    assert "probing with the demo's labels: --label folder" in out.err
    assert json.loads(out.out)["n_test"] == 16  # a quarter of the 64 clips held out
