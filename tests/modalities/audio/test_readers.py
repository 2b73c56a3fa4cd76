"""Audio readers: formats, resampling, mixdown, clips and padding, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from jepa_core.modality import DataError
from modalities.audio.dataset import AudioDataset
from modalities.audio.options import AudioOptions
from modalities.audio.readers import Decoder, clip_starts, list_items

from .sounds import write_tone

OPTS = AudioOptions(clip_seconds=1.0)


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_readers__every_format_decodes_to_the_tone(tmp_path, suffix):
    path = write_tone(tmp_path / f"a{suffix}", seconds=1.0, freq=500.0)
    items = list_items(path, OPTS)
    wave, length = Decoder(OPTS)(items[0])
    assert wave.shape == (16000,) and wave.dtype == np.float32 and length >= 15000
    spectrum = np.abs(np.fft.rfft(wave[:length]))
    peak_hz = np.argmax(spectrum) * 16000 / length
    assert abs(peak_hz - 500) < 5 and 0.3 < np.abs(wave).max() < 0.7


def test_readers__resampled_with_soxr_and_mixed_to_mono(tmp_path):
    path = write_tone(tmp_path / "st.wav", seconds=1.0, rate=44100, channels=2, freq=1000.0)
    wave, length = Decoder(OPTS)(list_items(path, OPTS)[0])
    import librosa

    stereo, _ = sf.read(path, dtype="float32")
    expected = librosa.resample(stereo.mean(1), orig_sr=44100, target_sr=16000, res_type="soxr_hq")
    assert length == 16000
    np.testing.assert_allclose(wave, expected[:16000], atol=1e-6)
    assert abs(np.abs(wave[1000:-1000]).max() - 0.375) < 0.01  # (0.5 + 0.25) / 2


def test_readers__long_recordings_are_cut_short_ones_padded(tmp_path):
    write_tone(tmp_path / "long.wav", seconds=2.5)
    write_tone(tmp_path / "short.wav", seconds=0.4)
    items = list_items(tmp_path, OPTS)
    longs = [it for it in items if it.path.endswith("long.wav")]
    assert [(it.start, round(it.duration, 3)) for it in longs] == [(0.0, 1.0), (1.0, 1.0), (1.5, 1.0)]
    ds = AudioDataset(items, OPTS, str(tmp_path))
    short = ds[[i for i, it in enumerate(items) if it.path.endswith("short.wav")][0]]
    assert short["length"] == 6400 and not short["audio"][6400:].any() and short["audio"][:6400].any()
    assert clip_starts(2.0, 1.0, 0.5) == [0.0, 0.5, 1.0]


def test_readers__a_clip_reads_only_its_frames(tmp_path):
    rate = 16000
    y = np.zeros(3 * rate, dtype=np.float32)
    y[rate:2 * rate] = 0.5  # only the middle second is loud
    sf.write(tmp_path / "m.wav", y, rate, subtype="FLOAT")
    items = list_items(tmp_path, OPTS)
    waves = [Decoder(OPTS)(it)[0] for it in items]
    assert [float(np.abs(w).max()) for w in waves] == [0.0, 0.5, 0.0]


def _error(path, opts=OPTS) -> str:
    with pytest.raises(DataError) as e:
        list_items(path, opts)
    assert str(path) in str(e.value)
    return str(e.value)


def test_readers__truncated_and_non_audio_files(tmp_path):
    good = write_tone(tmp_path / "g.wav", seconds=1.0)
    (tmp_path / "t.wav").write_bytes(good.read_bytes()[:30])  # a header cut short
    assert "not audio" in _error(tmp_path / "t.wav")
    (tmp_path / "text.flac").write_text("hello, not audio at all\n" * 50)
    assert "not audio" in _error(tmp_path / "text.flac")
    (tmp_path / "random.ogg").write_bytes(np.random.default_rng(0).bytes(4000))
    assert "not audio" in _error(tmp_path / "random.ogg")
    (tmp_path / "bad.mp3").write_bytes(np.random.default_rng(1).bytes(4000))
    _error(tmp_path / "bad.mp3")
    (tmp_path / "empty.wav").write_bytes(b"")
    assert "empty file" in _error(tmp_path / "empty.wav")


def test_readers__unsupported_codec_in_a_wav(tmp_path):
    good = write_tone(tmp_path / "g.wav", seconds=0.5).read_bytes()
    # the fmt chunk's format tag (bytes 20-21) set to 0x0055 (MPEG layer 3 in a WAV), which libsndfile rejects
    (tmp_path / "codec.wav").write_bytes(good[:20] + (0x55).to_bytes(2, "little") + good[22:])
    msg = _error(tmp_path / "codec.wav")
    assert "codec (format tag 0x0055)" not in msg  # MPEG-in-WAV is a codec libsndfile has
    (tmp_path / "wma.wav").write_bytes(good[:20] + (0x0161).to_bytes(2, "little") + good[22:])
    assert "codec (format tag 0x0161) libsndfile cannot decode" in _error(tmp_path / "wma.wav")


def test_readers__silent_and_nan_files(tmp_path):
    sf.write(tmp_path / "silent.wav", np.zeros(16000, dtype=np.float32), 16000)
    assert "silent" in _error(tmp_path / "silent.wav")
    y = np.full(16000, 0.1, dtype=np.float32)
    y[1234] = np.nan
    sf.write(tmp_path / "nan.wav", y, 16000, subtype="FLOAT")
    assert "NaN or infinite samples (the first at frame 1234, 0.077 s)" in _error(tmp_path / "nan.wav")


def test_readers__nan_found_in_the_worker_when_not_verified(tmp_path):
    y = np.full(16000, 0.1, dtype=np.float32)
    y[10] = np.nan
    sf.write(tmp_path / "nan.wav", y, 16000, subtype="FLOAT")
    opts = AudioOptions(clip_seconds=1.0, verify=False)
    item = AudioDataset(list_items(tmp_path, opts), opts, str(tmp_path))[0]
    assert "nan.wav" in item["error"] and "NaN" in item["error"]


def test_readers__shorter_than_one_patch(tmp_path):
    write_tone(tmp_path / "tiny.wav", seconds=0.1)
    assert "shorter than one patch" in _error(tmp_path / "tiny.wav")


def test_readers__no_audio_in_the_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    assert "no audio files" in _error(tmp_path)


def test_readers__sample_rate_below_the_mel_range(tmp_path):
    path = write_tone(tmp_path / "phone.wav", seconds=1.0, rate=8000)
    msg = _error(path)
    assert "8000 Hz" in msg and "options.fmax" in msg
    assert len(list_items(path, AudioOptions(clip_seconds=1.0, fmax=4000))) == 1
    assert len(list_items(path, AudioOptions(clip_seconds=1.0, low_rate="upsample"))) == 1
    with pytest.raises(ValueError, match="Nyquist"):
        AudioOptions(sample_rate=8000, fmax=8000).validate()


def test_readers__wav_truncated_inside_its_samples(tmp_path):
    good = write_tone(tmp_path / "g.wav", seconds=1.0)
    (tmp_path / "cut.wav").write_bytes(good.read_bytes()[:20000])
    assert "truncated WAV" in _error(tmp_path / "cut.wav")


def test_readers__streamed_wav_with_unknown_length_is_read(tmp_path):
    raw = bytearray(write_tone(tmp_path / "g.wav", seconds=1.0).read_bytes())
    at = raw.index(b"data") + 4
    raw[at:at + 4] = (0xFFFFFFFF).to_bytes(4, "little")  # what a piped encoder writes
    (tmp_path / "g.wav").write_bytes(bytes(raw))
    assert len(list_items(tmp_path / "g.wav", OPTS)) == 1


@pytest.mark.parametrize("n_mels", [0, 8, 72])
def test_options__n_mels_not_a_multiple_of_the_patch(n_mels):
    with pytest.raises(ValueError, match=rf"options.n_mels={n_mels} must be a positive multiple of "
                                         r"options.patch_freq=16"):
        AudioOptions(n_mels=n_mels, patch_freq=16).validate()


def test_bad_input__grid_too_small_for_the_masks_names_the_options(tmp_path):
    from jepa_core.config import build_config, parse_overrides
    from modalities.audio.plugin import AudioModality

    write_tone(tmp_path / "a.wav", seconds=1.0)
    plugin = AudioModality()
    cfg = build_config({"modality": "audio"}, plugin.default_config(),
                       parse_overrides(["options.clip_seconds=0.2"]))
    with pytest.raises(DataError) as e:
        plugin.load(str(tmp_path), cfg, None)
    assert str(e.value).startswith("options.clip_seconds=0.2 s clips and options.n_mels=80 bands, cut into "
                                   "16 x 16 patches (options.patch_freq, options.patch_time), make a 5 x 1 "
                                   "token grid, too small for the time_frequency masks (")
