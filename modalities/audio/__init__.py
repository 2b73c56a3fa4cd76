"""Recordings to log-mel patch tokens (M2D / A-JEPA style audio JEPA).

Readers for WAV, FLAC, OGG (soundfile) and MP3 (librosa), resampled with soxr and cut
into clips, decoded lazily in DataLoader workers; a batched log-mel frontend on the
training device (torch STFT with librosa's mel filterbank) normalized with per-dataset
statistics; patch tokens on a (frequency, time) grid with validity for short clips; a
synthesized demo; folder and CSV labels for probing.
"""

from .frontend import LogMel
from .options import AudioOptions
from .plugin import AudioModality
from .tokenizer import AudioTokenizer

__all__ = ["AudioModality", "AudioOptions", "AudioTokenizer", "LogMel"]
