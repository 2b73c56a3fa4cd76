"""Listing recordings, cutting them into clips and decoding clips to 16 kHz mono.

Files are listed and checked up front (headers, and with ``options.verify`` every
sample); a clip's samples are decoded only when it is read, in the DataLoader workers.

- WAV, FLAC and OGG (Vorbis, Opus) are read through soundfile (libsndfile), only the
  frames of the clip; MP3 through ``librosa.load`` (offset and duration).
- Multi-channel recordings are mixed down to mono by averaging the channels (the
  loudness of a sound panned to one side halves; nothing is dropped).
- Every clip is resampled to ``options.sample_rate`` with soxr (``librosa.resample``,
  ``res_type="soxr_hq"``).
- A recording is cut into clips of ``clip_seconds`` every ``hop_seconds``; when the clips
  do not reach its end, one more clip ends at the end. A recording shorter than a clip
  is one clip, padded with zeros (the padding is marked invalid); one shorter than one
  patch is an error.
"""

from __future__ import annotations

import contextlib
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jepa_core.modality import DataError

from .options import AUDIO_SUFFIXES, LIBROSA_SUFFIXES, AudioOptions


class BadAudioError(DataError):
    """A file that is not readable audio, or audio that cannot be used (names the file)."""


@dataclass(frozen=True)
class AudioItem:
    """One clip: ``duration`` seconds of ``path`` from ``start`` (seconds).

    ``index`` is the clip's number within its file and ``source_rate`` the file's own
    sample rate.
    """

    path: str
    start: float
    duration: float
    index: int
    source_rate: int

    @property
    def name(self) -> str:
        return f"{self.path} (clip {self.index} at {self.start:.2f} s)"


def find_files(root: str | Path) -> list[Path]:
    """Audio files under ``root`` (recursively, sorted; hidden files and folders skipped),
    or ``root`` itself.

    Raises:
        DataError: a missing path, a file of another type, or a folder without audio.
    """
    root = Path(root)
    if root.is_file():
        if root.suffix.lower() not in AUDIO_SUFFIXES:
            raise DataError(f"{root}: not an audio file (expected one of {', '.join(AUDIO_SUFFIXES)})")
        return [root]
    if not root.is_dir():
        raise DataError(f"{root}: no such file or folder")
    files = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        files += [Path(folder) / f for f in names
                  if Path(f).suffix.lower() in AUDIO_SUFFIXES and not f.startswith(".")]
    files.sort()
    if not files:
        raise DataError(f"{root}: no audio files found (looked recursively for {', '.join(AUDIO_SUFFIXES)})")
    return files


def clip_starts(duration: float, clip: float, hop: float) -> list[float]:
    """Start times of the clips of a recording of ``duration`` seconds.

    Examples:
        >>> clip_starts(1.0, 2.0, 2.0)
        [0.0]
        >>> clip_starts(5.0, 2.0, 2.0)  # the last clip ends at the end
        [0.0, 2.0, 3.0]
    """
    if duration <= clip + 1e-9:
        return [0.0]
    count = int(math.floor((duration - clip) / hop + 1e-9)) + 1
    starts = [i * hop for i in range(count)]
    if starts[-1] + clip < duration - 1e-6:
        starts.append(duration - clip)
    return starts


def _info(path: Path) -> tuple[int, int, int]:
    """``(sample rate, frames, channels)`` from the header."""
    if path.stat().st_size == 0:
        raise BadAudioError(f"{path}: empty file (0 bytes), not audio")
    if path.suffix.lower() in LIBROSA_SUFFIXES:
        import librosa

        try:
            with _quiet():
                rate = int(librosa.get_samplerate(str(path)))
                seconds = float(librosa.get_duration(path=str(path)))
        except Exception as e:  # librosa raises whatever its backends raise
            raise BadAudioError(f"{path}: not an MP3 librosa can read ({_reason(e)})") from None
        return rate, int(round(seconds * rate)), 1
    import soundfile as sf

    wav = wav_header(path) if path.suffix.lower() == ".wav" else None
    try:
        info = sf.info(str(path))
    except (RuntimeError, sf.SoundFileError) as e:
        if wav is not None and wav[0] is not None and wav[0] not in WAV_CODECS:
            raise BadAudioError(f"{path}: a WAV file whose codec (format tag 0x{wav[0]:04X}) libsndfile "
                                "cannot decode; convert it to PCM (e.g. ffmpeg -i IN -c:a pcm_s16le OUT.wav) "
                                f"({_reason(e)})") from None
        raise BadAudioError(f"{path}: not audio soundfile can read: truncated, corrupt, or a codec "
                            f"libsndfile does not support ({_reason(e)})") from None
    # a streamed WAV declares 0 or 0xFFFFFFFF bytes (length unknown when its header was written)
    if wav is not None and wav[1] not in (None, 0, 0xFFFFFFFF) and wav[1] > wav[2]:
        raise BadAudioError(f"{path}: truncated WAV: its header declares {wav[1]} bytes of samples, the "
                            f"file holds {wav[2]}")
    return int(info.samplerate), int(info.frames), int(info.channels)


#: WAV format tags libsndfile decodes: PCM, MS ADPCM, IEEE float, A-law, mu-law, IMA ADPCM,
#: GSM 6.10, G.721, MPEG layer 3, extensible.
WAV_CODECS = (0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0x0031, 0x0040, 0x0055, 0xFFFE)


def wav_header(path: Path) -> tuple[int | None, int | None, int]:
    """``(format tag, declared data bytes, data bytes present)`` of a RIFF WAV file (``None``
    where the chunk is missing), from its chunk headers."""
    with open(path, "rb") as f:
        head = f.read(12)
        size = path.stat().st_size
        tag = declared = None
        present = 0
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None, None, 0
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                break
            cid, length = chunk[:4], int.from_bytes(chunk[4:], "little")
            start = f.tell()
            if cid == b"fmt ":
                tag = int.from_bytes(f.read(2), "little")
            elif cid == b"data":
                declared, present = length, size - start
                break
            f.seek(start + length + (length & 1))
        return tag, declared, present


@contextlib.contextmanager
def _quiet():
    """Silence librosa's warning that it falls back to audioread (the error, if any, says enough)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


def _reason(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[-1] if text else type(e).__name__


def _verify(path: Path, rate: int) -> None:
    """Decode the whole file once: NaN/inf samples and all-zero files are errors."""
    peak, offset = 0.0, 0
    for block in _blocks(path, rate):
        frames = block.reshape(len(block), -1) if block.ndim > 1 else block[:, None]
        finite = np.isfinite(frames).all(axis=1)
        if not finite.all():
            first = offset + int(np.flatnonzero(~finite)[0])
            raise BadAudioError(f"{path}: holds NaN or infinite samples (the first at frame {first}, "
                                f"{first / rate:.3f} s); every sample must be finite")
        if frames.size:
            peak = max(peak, float(np.abs(frames).max()))
        offset += len(frames)
    if peak == 0.0:
        raise BadAudioError(f"{path}: silent (every sample is 0); a silent recording has nothing to "
                            "learn from; remove it")


def _blocks(path: Path, rate: int):
    if path.suffix.lower() in LIBROSA_SUFFIXES:
        import librosa

        try:
            with _quiet():
                y, _ = librosa.load(str(path), sr=None, mono=False)
        except Exception as e:
            raise BadAudioError(f"{path}: cannot decode the MP3 ({_reason(e)})") from None
        yield y.T if y.ndim > 1 else y  # librosa gives [channels, samples]
        return
    import soundfile as sf

    try:
        for block in sf.blocks(str(path), blocksize=rate * 60, dtype="float32", always_2d=True):
            yield block
    except (RuntimeError, sf.SoundFileError) as e:
        raise BadAudioError(f"{path}: cannot decode the audio ({_reason(e)})") from None


def inspect_file(path: Path, opts: AudioOptions) -> list[AudioItem]:
    """The clips of one file, after checking it.

    Raises:
        BadAudioError: not readable audio, no samples, shorter than one patch, recorded
            below the mel range (``options.low_rate=stop``), NaN or silent (``verify``).
    """
    rate, frames, _ = _info(path)
    if frames <= 0 or rate <= 0:
        raise BadAudioError(f"{path}: holds no audio samples")
    duration = frames / rate
    if rate < 2 * opts.top_hz and opts.low_rate == "stop":
        raise BadAudioError(f"{path}: recorded at {rate} Hz, which holds frequencies up to {rate / 2:g} Hz, "
                            f"below the top of the mel range (options.fmax = {opts.top_hz:g} Hz): its top "
                            f"mel bands would be empty. Lower options.fmax to {rate / 2:g} or less, or set "
                            "options.low_rate=upsample to accept it")
    if duration * opts.sample_rate < opts.patch_samples:
        raise BadAudioError(f"{path}: {duration * 1000:.1f} ms of audio is shorter than one patch "
                            f"({opts.patch_time} frames of {opts.hop_ms:g} ms, options.patch_time)")
    if opts.verify:
        _verify(path, rate)
    clip, hop = opts.clip_seconds, opts.hop_seconds or opts.clip_seconds
    return [AudioItem(str(path), s, min(clip, duration - s), i, rate)
            for i, s in enumerate(clip_starts(duration, clip, hop))]


def list_items(root: str | Path, opts: AudioOptions, workers: int = 4) -> list[AudioItem]:
    """Every clip of every recording under ``root``, checked up front.

    Raises:
        DataError: the first bad file (in listing order), or no audio at all.
    """
    files = find_files(root)

    def check(path: Path) -> list[AudioItem] | BadAudioError:
        try:
            return inspect_file(path, opts)
        except BadAudioError as e:
            return e

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(check, files))
    for r in results:
        if isinstance(r, BadAudioError):
            raise r
    return [it for r in results for it in r]


# -- decoding ------------------------------------------------------------------------------

def read_clip(item: AudioItem) -> tuple[np.ndarray, int]:
    """The clip's samples at the file's rate, mixed to mono: ``(float32 [S], rate)``."""
    path = Path(item.path)
    if path.suffix.lower() in LIBROSA_SUFFIXES:
        import librosa

        try:
            with _quiet():
                y, rate = librosa.load(item.path, sr=None, mono=True, offset=item.start,
                                       duration=item.duration)
        except Exception as e:
            raise BadAudioError(f"{item.name}: cannot decode the MP3 ({_reason(e)})") from None
        return np.asarray(y, dtype=np.float32), int(rate)
    import soundfile as sf

    try:
        with sf.SoundFile(item.path) as f:
            rate = f.samplerate
            f.seek(min(int(round(item.start * rate)), max(f.frames - 1, 0)))
            data = f.read(int(round(item.duration * rate)), dtype="float32", always_2d=True)
    except (RuntimeError, sf.SoundFileError) as e:
        raise BadAudioError(f"{item.name}: cannot decode the audio ({_reason(e)})") from None
    return data.mean(axis=1) if data.shape[1] > 1 else data[:, 0], int(rate)


class Decoder:
    """Decodes clips to ``options.sample_rate`` mono, zero-padded to ``clip_samples``.

    Returns ``(wave float32 [clip_samples], length)`` with ``length`` the number of real
    samples.
    """

    def __init__(self, opts: AudioOptions) -> None:
        self.rate = opts.sample_rate
        self.samples = opts.clip_samples

    def blank(self) -> tuple[np.ndarray, int]:
        return np.zeros(self.samples, dtype=np.float32), self.samples

    def __call__(self, item: AudioItem) -> tuple[np.ndarray, int]:
        y, rate = read_clip(item)
        if y.size == 0:
            raise BadAudioError(f"{item.name}: no samples could be decoded (truncated file?)")
        if rate != self.rate:
            import librosa

            y = librosa.resample(y, orig_sr=rate, target_sr=self.rate, res_type="soxr_hq")
        if not np.isfinite(y).all():
            raise BadAudioError(f"{item.name}: holds NaN or infinite samples; every sample must be finite")
        length = min(len(y), self.samples)
        out = np.zeros(self.samples, dtype=np.float32)
        out[:length] = y[:length]
        return out, length
