"""The log-mel frontend, computed in batch on the training device.

``torch.stft`` with a periodic Hann window and librosa's mel filterbank
(``librosa.filters.mel``, Slaney scale and area normalization): the same numbers as
``librosa.feature.melspectrogram`` (``center=True``, ``pad_mode="constant"``,
``power=2``) computed for a whole batch at once wherever the batch lives, so turning
waveforms into features is never a per-clip CPU step in the data loader.
"""

from __future__ import annotations

import librosa
import numpy as np
import torch
from torch import Tensor, nn

from .options import AudioOptions


def mel_filterbank(opts: AudioOptions) -> np.ndarray:
    """librosa's mel matrix for the options, ``[n_mels, n_fft // 2 + 1]`` float32."""
    return librosa.filters.mel(sr=opts.sample_rate, n_fft=opts.n_fft, n_mels=opts.n_mels,
                               fmin=opts.fmin, fmax=opts.top_hz).astype(np.float32)


class LogMel(nn.Module):
    """Waveforms to log-mel spectrograms: ``log(mel power + log_floor)``.

    Args:
        opts: the plugin options (sample rate, window, hop, mel bands, floor).

    Shapes:
        ``[B, S]`` float waveforms -> ``[B, n_mels, 1 + S // hop_length]``.

    Examples:
        >>> LogMel(AudioOptions())(torch.zeros(2, 16000)).shape
        torch.Size([2, 80, 101])
    """

    def __init__(self, opts: AudioOptions) -> None:
        super().__init__()
        self.n_fft, self.hop, self.win = opts.n_fft, opts.hop_length, opts.win_length
        self.floor = float(opts.log_floor)
        self.register_buffer("window", torch.hann_window(self.win, periodic=True), persistent=False)
        self.register_buffer("fb", torch.from_numpy(mel_filterbank(opts)), persistent=False)

    def power_mel(self, wave: Tensor) -> Tensor:
        """Mel power spectrogram ``[B, n_mels, frames]`` (float32)."""
        spec = torch.stft(wave.float(), self.n_fft, hop_length=self.hop, win_length=self.win,
                          window=self.window, center=True, pad_mode="constant", return_complex=True)
        return torch.matmul(self.fb, spec.real.square() + spec.imag.square())

    def forward(self, wave: Tensor) -> Tensor:
        return torch.log(self.power_mel(wave) + self.floor)


def frame_lengths(lengths: Tensor, hop_length: int) -> Tensor:
    """Frames holding real audio for clips of ``lengths`` samples (frame ``k`` centred on
    sample ``k * hop``): ``ceil(length / hop)``, at least 1."""
    return torch.clamp((lengths + hop_length - 1) // hop_length, min=1)
