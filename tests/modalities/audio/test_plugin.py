"""The audio plugin: normalization fitted once and saved, probe data, labels, the demo."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from jepa_core.config import build_config
from jepa_core.modality import DataError
from jepa_core.registry import create_modality
from modalities.audio.demo import demo_root
from modalities.audio.synth import CLASSES, sound

from .sounds import write_other_sounds

SMALL = {"options": {"clip_seconds": 0.5, "n_mels": 32}}


def _cfg(plugin, extra=None):
    return build_config({"modality": "audio"}, plugin.default_config(), SMALL, extra or {})


def test_plugin__normalization_is_fitted_once_then_reused(tmp_path):
    plugin = create_modality("audio")
    data = write_other_sounds(tmp_path / "a", 2, families=("two_tone", "beeps"), seconds=0.5)
    cfg = _cfg(plugin)
    ds, state = plugin.load(str(data), cfg, None)
    tok = plugin.build_tokenizer(cfg, state)
    batch = plugin.collate([ds[i] for i in range(len(ds))])
    x, valid = tok.features(batch)
    assert abs(float(x[valid[:, None, :].expand_as(x)].mean())) < 1e-3  # standardized on this data
    assert abs(float(x[valid[:, None, :].expand_as(x)].std()) - 1) < 0.05
    quiet = write_other_sounds(tmp_path / "b", 2, families=("hits",), seconds=0.5, seed=3)
    _, again = plugin.load(str(quiet), cfg, state)
    assert again is state  # embedding/probing other data keeps the run's statistics


def test_plugin__probe_data_with_raw_band_statistics(tmp_path):
    plugin = create_modality("audio")
    data = write_other_sounds(tmp_path / "a", 3, families=("two_tone", "beeps"), seconds=0.5)
    cfg = _cfg(plugin)
    _, state = plugin.load(str(data), cfg, None)
    pd = plugin.probe_data(str(data), "folder", None, cfg, state)
    assert pd.targets.tolist() == [0, 0, 0, 1, 1, 1]  # files and classes sorted: beeps, two_tone
    assert pd.raw_features.shape == (6, 64) and np.isfinite(pd.raw_features).all()
    assert pd.raw_tokens.shape == (6, 3, 32) and pd.raw_valid.shape == (6, 3) and pd.raw_valid.all()
    (tmp_path / "labels.csv").write_text("path,label\ntwo_tone/000.flac,x\nbeeps/001.flac,y\n"
                                         "beeps/002.flac,y\ntwo_tone/002.flac,x\n")
    pd = plugin.probe_data(str(data), str(tmp_path / "labels.csv"), None, cfg, state)
    assert pd.targets.tolist() == [0, 1, 1, 0]
    (tmp_path / "bad.csv").write_text("path,label\nnope.wav,x\n")
    with pytest.raises(DataError, match="bad.csv, line 2: 'nope.wav' is not a recording"):
        plugin.probe_data(str(data), str(tmp_path / "bad.csv"), None, cfg, state)


def test_plugin__flat_folder_cannot_give_folder_labels(tmp_path):
    plugin = create_modality("audio")
    for i in range(3):
        sf.write(tmp_path / f"{i}.wav", (0.1 * np.random.default_rng(i).standard_normal(8000)), 16000)
    cfg = _cfg(plugin)
    _, state = plugin.load(str(tmp_path), cfg, None)
    with pytest.raises(DataError, match="flat folder"):
        plugin.probe_data(str(tmp_path), "folder", None, cfg, state)


def test_demo__class_folders_of_2s_wavs_written_once(tmp_path, monkeypatch):
    monkeypatch.setenv("JEPA_CACHE_DIR", str(tmp_path))
    root = demo_root(per_class=2)
    assert sorted(p.name for p in root.iterdir()) == sorted(CLASSES)
    info = sf.info(root / "chirp_up" / "000.wav")
    assert (info.samplerate, info.frames, info.channels) == (16000, 32000, 1)
    stamp = (root / "fm_tone" / "001.wav").stat().st_mtime_ns
    assert demo_root(per_class=2) == root and (root / "fm_tone" / "001.wav").stat().st_mtime_ns == stamp
    plugin = create_modality("audio")
    assert plugin.demo_label(str(root)) == "folder" and plugin.demo_label(str(tmp_path)) is None


def test_demo__chirps_up_and_down_share_a_spectrum_but_not_a_direction():
    import librosa

    rng = np.random.default_rng(0)
    slopes, spectra = {}, {}
    for kind in ("chirp_up", "chirp_down"):
        mels = [librosa.feature.melspectrogram(y=sound(kind, rng), sr=16000, n_mels=40) for _ in range(30)]
        peak = [np.argmax(m, axis=0) for m in mels]
        loud = [m.sum(0) > 0.3 * m.sum(0).max() for m in mels]
        slopes[kind] = np.mean([np.polyfit(np.flatnonzero(k), p[k], 1)[0] for p, k in zip(peak, loud)])
        spectra[kind] = np.mean([np.log(m.mean(1) + 1e-6) for m in mels], axis=0)
    assert slopes["chirp_up"] > 0 > slopes["chirp_down"]
    assert np.abs(spectra["chirp_up"] - spectra["chirp_down"]).mean() < 1.0


@pytest.mark.parametrize("mask", [{"name": "time_frequency", "curriculum_steps": 4},
                                  {"name": "random_subset", "context_ratio": 0.3, "target_ratio": 0.7}])
def test_plugin__training_steps_with_the_curriculum_and_random_masks(tmp_path, mask):
    import torch

    from jepa_core.run import build_model

    plugin = create_modality("audio")
    data = write_other_sounds(tmp_path / "a", 2, families=("two_tone", "beeps"), seconds=0.5)
    cfg = _cfg(plugin, {"mask": mask, "model": {"dim": 16, "depth": 1, "heads": 2, "predictor_dim": 16,
                                                "predictor_depth": 1, "predictor_heads": 2}})
    ds, state = plugin.load(str(data), cfg, None)
    model = build_model(cfg, plugin, state)
    batch = plugin.collate([ds[i] for i in range(4)])
    for step in range(6):  # random (M = 1) early in the curriculum, strips/bands/blocks (M = 2) later
        out = model(batch, torch.arange(4), step=step)
        assert torch.isfinite(out.loss)
        out.loss.backward()
