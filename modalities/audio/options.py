"""The ``options`` config section of the audio plugin: clips, log-mel frontend, patches."""

from __future__ import annotations

from dataclasses import dataclass

#: Suffixes read through soundfile (libsndfile) and through librosa's loader.
SOUNDFILE_SUFFIXES = (".wav", ".flac", ".ogg", ".oga")
LIBROSA_SUFFIXES = (".mp3",)
AUDIO_SUFFIXES = SOUNDFILE_SUFFIXES + LIBROSA_SUFFIXES


@dataclass
class AudioOptions:
    """How recordings are read, cut into clips, turned into log-mel and into patches.

    The frontend defaults are M2D's / BYOL-A's: 16 kHz, a 25 ms Hann window (400 samples,
    FFT size 512), a 10 ms hop, 80 mel bands (librosa's Slaney filterbank) from 0 Hz to
    half the sample rate, ``log(mel + log_floor)``. Patches are 16 mel bands x 16
    frames (160 ms) as in M2D / A-JEPA. What keeps the default CPU-sized is the clip
    length: 2 s clips give a 5 x 12 grid (frequency x time) of 60 tokens; M2D's 10 s
    clips (``clip_seconds: 10``) give 5 x 62.

    Args:
        sample_rate: every recording is resampled to this rate (soxr through librosa).
        clip_seconds: length of the clips a recording is cut into; shorter recordings
            are padded with zeros and their padded time patches are marked invalid.
        hop_seconds: step between clip starts (default ``clip_seconds``: no overlap).
            A recording's tail that no clip reaches gets one more clip ending at the
            recording's end, so no audio is dropped.
        n_mels: mel bands; must be a multiple of ``patch_freq``.
        win_ms, hop_ms: STFT window and hop; the FFT size is the next power of two.
        fmin, fmax: the mel range in Hz (``fmax`` ``null``: ``sample_rate / 2``).
        log_floor: added to the mel power before the log, so silence stays finite.
        patch_freq, patch_time: mel bands and frames per patch.
        low_rate: a file recorded below ``2 * fmax`` has no content at the top of the
            mel range: ``stop`` (a clear error naming the file) or ``upsample`` (accept
            it; its top bands are empty).
        verify: decode every file once while listing, so NaN samples and all-zero
            files are reported before training.
        norm_clips: clips decoded to fit the log-mel mean and std (evenly spaced).
    """

    sample_rate: int = 16000
    clip_seconds: float = 2.0
    hop_seconds: float | None = None
    n_mels: int = 80
    win_ms: float = 25.0
    hop_ms: float = 10.0
    fmin: float = 0.0
    fmax: float | None = None
    log_floor: float = 1e-6
    patch_freq: int = 16
    patch_time: int = 16
    low_rate: str = "stop"
    verify: bool = True
    norm_clips: int = 256

    @property
    def win_length(self) -> int:
        """STFT window in samples."""
        return int(round(self.sample_rate * self.win_ms / 1000.0))

    @property
    def hop_length(self) -> int:
        """STFT hop in samples."""
        return int(round(self.sample_rate * self.hop_ms / 1000.0))

    @property
    def n_fft(self) -> int:
        """FFT size: the smallest power of two holding the window."""
        return 1 << max(self.win_length - 1, 1).bit_length()

    @property
    def top_hz(self) -> float:
        """The top of the mel range in Hz."""
        return float(self.fmax) if self.fmax is not None else self.sample_rate / 2.0

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def hop_samples(self) -> int:
        return int(round((self.hop_seconds or self.clip_seconds) * self.sample_rate))

    @property
    def frames(self) -> int:
        """Log-mel frames of a clip that fill whole patches (a partial last patch is cut)."""
        centred = 1 + self.clip_samples // self.hop_length
        return centred // self.patch_time * self.patch_time

    @property
    def patch_samples(self) -> int:
        """The shortest recording accepted: one patch of frames."""
        return (self.patch_time - 1) * self.hop_length + 1

    @property
    def grid(self) -> tuple[int, int]:
        """The token grid ``(frequency, time)``."""
        return self.n_mels // self.patch_freq, self.frames // self.patch_time

    def validate(self) -> None:
        """Raise ``ValueError`` for settings that cannot work, naming the option."""
        if self.sample_rate < 1000:
            raise ValueError(f"options.sample_rate={self.sample_rate} Hz is too low (>= 1000)")
        if self.fmax is not None and self.fmax > self.sample_rate / 2:
            raise ValueError(f"options.fmax={self.fmax} Hz is above the Nyquist frequency of "
                             f"options.sample_rate={self.sample_rate} Hz ({self.sample_rate / 2:g} Hz): the "
                             "top mel bands would be empty; lower fmax or raise sample_rate")
        if not 0 <= self.fmin < self.top_hz:
            raise ValueError(f"options.fmin={self.fmin} must be in [0, fmax={self.top_hz:g})")
        if self.clip_seconds <= 0 or (self.hop_seconds is not None and self.hop_seconds <= 0):
            raise ValueError("options.clip_seconds and options.hop_seconds must be > 0")
        if self.win_ms <= 0 or self.hop_ms <= 0 or self.hop_length < 1:
            raise ValueError("options.win_ms and options.hop_ms must be > 0")
        if self.patch_freq < 1 or self.patch_time < 1:
            raise ValueError("options.patch_freq and options.patch_time must be >= 1")
        if self.n_mels < self.patch_freq or self.n_mels % self.patch_freq:
            raise ValueError(f"options.n_mels={self.n_mels} must be a positive multiple of "
                             f"options.patch_freq={self.patch_freq} (the mel bands of one patch)")
        if self.frames < self.patch_time:
            raise ValueError(f"options.clip_seconds={self.clip_seconds} holds fewer frames than one patch "
                             f"(options.patch_time={self.patch_time} frames of {self.hop_ms:g} ms)")
        if self.log_floor <= 0:
            raise ValueError(f"options.log_floor must be > 0, got {self.log_floor}")
        if self.low_rate not in ("stop", "upsample"):
            raise ValueError(f"options.low_rate must be 'stop' or 'upsample', got {self.low_rate!r}")
        if self.norm_clips < 1:
            raise ValueError(f"options.norm_clips must be >= 1, got {self.norm_clips}")
