"""The batched log-mel frontend against librosa, and the patch tokenizer's grid and validity."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from jepa_core.models.positions import sincos_positions
from modalities.audio.frontend import LogMel
from modalities.audio.options import AudioOptions
from modalities.audio.tokenizer import AudioTokenizer


@pytest.mark.parametrize("n_mels,rate", [(80, 16000), (128, 16000), (64, 22050)])
def test_frontend__equals_librosa_melspectrogram(n_mels, rate):
    opts = AudioOptions(sample_rate=rate, n_mels=n_mels, patch_freq=16)
    rng = np.random.default_rng(0)
    t = np.arange(rate) / rate
    waves = np.stack([0.3 * np.sin(2 * np.pi * 700 * t) + 0.05 * rng.standard_normal(rate),
                      0.1 * rng.standard_normal(rate)]).astype(np.float32)
    ref = np.log(librosa.feature.melspectrogram(
        y=waves, sr=rate, n_fft=opts.n_fft, hop_length=opts.hop_length, win_length=opts.win_length,
        window="hann", center=True, pad_mode="constant", power=2.0, n_mels=n_mels, fmin=0.0,
        fmax=rate / 2) + opts.log_floor)
    out = LogMel(opts)(torch.from_numpy(waves)).numpy()
    assert out.shape == ref.shape == (2, n_mels, 1 + rate // opts.hop_length)
    np.testing.assert_allclose(out, ref, atol=2e-4, rtol=0)


def test_frontend__defaults_are_25ms_window_10ms_hop_80_mels():
    o = AudioOptions()
    assert (o.sample_rate, o.win_length, o.hop_length, o.n_fft, o.n_mels) == (16000, 400, 160, 512, 80)
    assert o.grid == (5, 12) and o.frames == 192


def test_frontend__silence_is_the_log_floor():
    out = LogMel(AudioOptions())(torch.zeros(1, 4000))
    assert torch.allclose(out, torch.full_like(out, float(np.log(1e-6))))


def test_tokenizer__grid_is_frequency_by_time_and_padding_is_invalid():
    opts = AudioOptions(clip_seconds=1.0)
    tok = AudioTokenizer(opts, dim=8, mean=-5.0, std=2.0)
    wave = torch.randn(3, 16000) * 0.1
    lengths = torch.tensor([16000, 8000, 2720])
    wave[1, 8000:] = 0
    wave[2, 2720:] = 0
    tb = tok({"audio": wave, "length": lengths, "error": ["", "", ""]})
    f, t = opts.grid
    assert (f, t) == (5, 6) and tb.tokens.shape == (3, 30, 8)
    valid = tb.valid.view(3, f, t)
    assert valid[0].all() and (valid == valid[:, :1]).all()  # the same time patches in every band
    assert valid[1, 0].tolist() == [True] * 4 + [False] * 2  # 50 frames: patches 0-3 start in audio
    assert valid[2, 0].tolist() == [True, True] + [False] * 4  # 17 frames: patch 1 starts at frame 16


def test_tokenizer__tokens_follow_the_frequency_axis_then_time():
    opts = AudioOptions(clip_seconds=1.0)
    tok = AudioTokenizer(opts, dim=4, mean=0.0, std=1.0)
    with torch.no_grad():
        tok.proj.weight.zero_()
        tok.proj.weight[0] = 1.0 / (16 * 16)  # channel 0: the patch's mean log-mel
        tok.proj.bias.zero_()
    t = torch.arange(16000) / 16000
    low = torch.sin(2 * torch.pi * 200 * t)  # energy in the lowest mel bands only
    tb = tok({"audio": low[None], "length": torch.tensor([16000])})
    per_band = tb.tokens[0, :, 0].view(5, 6).mean(1)
    assert int(per_band.argmax()) == 0 and bool((per_band[1:] < per_band[0]).all())


def test_positions__the_two_axes_get_their_own_channels():
    pos = sincos_positions((5, 12), 16).view(5, 12, 16)
    assert torch.allclose(pos[:, 0, :8], pos[:, 5, :8])  # frequency channels ignore time
    assert torch.allclose(pos[0, :, 8:], pos[3, :, 8:])  # time channels ignore frequency
    assert not torch.allclose(pos[0, 0], pos[0, 1]) and not torch.allclose(pos[0, 0], pos[1, 0])
