"""Log-mel patches: waveforms to tokens on a (frequency, time) grid, in batch on the device."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from jepa_core.modality import DataError, Tokenizer
from jepa_core.tokens import TokenBatch, TokenLayout

from .frontend import LogMel, frame_lengths
from .options import AudioOptions


class LogMelFeatures(nn.Module):
    """Normalized log-mel of a raw batch and which of its frames hold audio.

    ``(log-mel - mean) / std`` with the dataset's statistics (fitted by the plugin and
    saved in the run's modality state), cut to ``options.frames`` frames; frames past a
    clip's end (its zero padding) are set to 0, the normalized mean.

    Shapes:
        ``batch["audio"]`` ``[B, S]``, ``batch["length"]`` ``[B]`` ->
        ``([B, n_mels, frames], frame_valid [B, frames])``.
    """

    def __init__(self, opts: AudioOptions, mean: float, std: float) -> None:
        super().__init__()
        self.opts = opts
        self.logmel = LogMel(opts)
        self.mean, self.std = float(mean), float(std)

    def forward(self, batch: Any) -> tuple[Tensor, Tensor]:
        wave = batch["audio"]
        if wave.dim() != 2:
            raise ValueError(f"expected waveforms [B, S], got {tuple(wave.shape)}")
        frames = self.opts.frames
        x = (self.logmel(wave)[..., :frames] - self.mean) / self.std
        length = torch.as_tensor(batch.get("length", wave.shape[1]), device=wave.device)
        length = length.expand(wave.shape[0]) if length.dim() == 0 else length
        n_valid = frame_lengths(length, self.opts.hop_length)
        frame_valid = torch.arange(frames, device=wave.device)[None] < n_valid[:, None]
        return x * frame_valid[:, None, :], frame_valid


class AudioTokenizer(Tokenizer):
    """Waveforms to ``patch_freq x patch_time`` log-mel patch tokens, frequency-major.

    The log-mel is computed here, for the whole batch on its device
    (:class:`~modalities.audio.frontend.LogMel`), normalized with the dataset's
    statistics, and cut into patches by a strided convolution (the ViT / M2D patch
    embedding). Token ``f * T' + t`` is frequency band ``f``, time patch ``t`` of the
    ``(F', T')`` grid; the encoder adds 2-D sin-cos positions with separate channels for
    the frequency and the time axis. Time patches that start in a clip's padding are
    invalid.

    Args:
        opts: the plugin options.
        dim: the token width (``model.dim``).
        mean, std: the dataset's log-mel statistics.

    Shapes:
        ``batch["audio"]`` ``[B, S]`` -> ``TokenBatch.tokens`` ``[B, F' * T', dim]``.

    Examples:
        >>> tok = AudioTokenizer(AudioOptions(clip_seconds=0.5), dim=8, mean=0.0, std=1.0)
        >>> tb = tok({"audio": torch.zeros(2, 8000), "length": torch.tensor([8000, 3000])})
        >>> tb.layout.grid, tb.valid.view(2, 5, 3)[:, 0].tolist()
        ((5, 3), [[True, True, True], [True, True, False]])
    """

    def __init__(self, opts: AudioOptions, dim: int, mean: float, std: float) -> None:
        super().__init__()
        self.opts = opts
        self.layout = TokenLayout(opts.grid)
        self.dim = dim
        self.features = LogMelFeatures(opts, mean, std)
        self.proj = nn.Conv2d(1, dim, kernel_size=(opts.patch_freq, opts.patch_time),
                              stride=(opts.patch_freq, opts.patch_time))

    def forward(self, batch: Any) -> TokenBatch:
        errors = [e for e in batch.get("error", ()) if e]  # a list of str: no device sync
        if errors:
            raise DataError(errors[0] + (f" (and {len(errors) - 1} more in this batch)" if len(errors) > 1 else ""))
        x, frame_valid = self.features(batch)
        f, t = self.layout.grid
        tokens = self.proj(x[:, None].to(self.proj.weight.dtype)).flatten(2).transpose(1, 2)
        time_valid = frame_valid[:, :: self.opts.patch_time][:, :t]
        valid = time_valid[:, None, :].expand(-1, f, -1).reshape(len(x), f * t)
        return TokenBatch(tokens, self.layout, valid=valid)
