"""Test recordings, from a generator other than the demo's (:mod:`modalities.audio.synth`).

Four families the demo does not have: a steady harmonic stack, a two-tone alternation
(siren-like), decaying percussive hits and on/off beeps in a random pattern (Morse-like),
over brown noise; and a harder set of six, those families in pairs that differ only in
timing (fast/slow alternation, short/long decays, short/long beeps) over louder noise.
Written as FLAC or WAV at any sample rate, mono or stereo.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

FAMILIES = ("harmonic", "two_tone", "hits", "beeps")
#: Harder: three pairs that share their spectra and differ only in timing, over louder noise.
PAIRED_FAMILIES = ("two_tone_fast", "two_tone_slow", "hits_short", "hits_long", "beeps_short", "beeps_long")

#: Per family: alternation period, hit decay or beep segment range in seconds.
_TIMING = {"two_tone": (0.08, 0.25), "two_tone_fast": (0.05, 0.1), "two_tone_slow": (0.25, 0.5),
           "hits": (0.02, 0.08), "hits_short": (0.004, 0.012), "hits_long": (0.06, 0.15),
           "beeps": (0.05, 0.3), "beeps_short": (0.03, 0.08), "beeps_long": (0.2, 0.5)}


def other_sound(kind: str, rng: np.random.Generator, rate: int, seconds: float) -> np.ndarray:
    """One recording of family ``kind`` (float64 mono, peak below 1)."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    lo, hi = _TIMING.get(kind, (0.0, 0.0))
    noise = (0.02, 0.1) if kind in FAMILIES else (0.1, 0.4)
    kind = kind.split("_short")[0].split("_long")[0].replace("_fast", "").replace("_slow", "")
    if kind == "harmonic":
        f0 = rng.uniform(150, 400)
        y = sum(np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3)) / k for k in range(1, 7))
    elif kind == "two_tone":
        fa = rng.uniform(400, 1200)
        fb = fa * rng.uniform(1.25, 1.6)
        period = rng.uniform(lo, hi)
        f = np.where((t // period) % 2 == 0, fa, fb)
        y = np.sin(2 * np.pi * np.cumsum(f) / rate)
    elif kind == "hits":
        y = np.zeros(n)
        for _ in range(int(rng.integers(3, 9))):
            i = int(rng.integers(0, n - rate // 20))
            m = n - i
            decay = np.exp(-np.arange(m) / (rate * rng.uniform(lo, hi)))
            y[i:] += rng.standard_normal(m) * decay * rng.uniform(0.5, 1.0)
    elif kind == "beeps":
        f = rng.uniform(500, 2500)
        gate = np.zeros(n)
        pos = 0
        while pos < n:
            length = int(rate * rng.uniform(lo, hi))
            if rng.random() < 0.5:
                gate[pos:pos + length] = 1.0
            pos += length
        y = np.sin(2 * np.pi * f * t) * gate
    else:
        raise ValueError(kind)
    y = y / (np.max(np.abs(y)) + 1e-12)
    brown = np.cumsum(rng.standard_normal(n))
    brown -= np.linspace(brown[0], brown[-1], n)
    y = y + brown / (np.max(np.abs(brown)) + 1e-12) * rng.uniform(*noise)
    return y / np.max(np.abs(y)) * rng.uniform(0.2, 0.9)


def write_other_sounds(root: str | Path, per_class: int, *, rate: int = 22050, seconds: float = 2.0,
                       channels: int = 2, suffix: str = ".flac", seed: int = 1,
                       families=FAMILIES) -> Path:
    """``per_class`` recordings of each family in ``root/<family>/<i><suffix>``."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    for kind in families:
        (root / kind).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            mono = other_sound(kind, rng, rate, seconds)
            data = mono if channels == 1 else np.stack([mono * g for g in rng.uniform(0.6, 1.0, channels)], 1)
            sf.write(root / kind / f"{i:03d}{suffix}", data.astype(np.float32), rate)
    return root


def write_tone(path: str | Path, *, seconds: float = 1.0, rate: int = 16000, channels: int = 1,
               freq: float = 440.0, subtype: str | None = None) -> Path:
    """A sine tone (channel ``c`` scaled by ``1 / (c + 1)``), the format from the suffix."""
    t = np.arange(int(rate * seconds)) / rate
    y = 0.5 * np.sin(2 * np.pi * freq * t)
    data = y if channels == 1 else np.stack([y / (c + 1) for c in range(channels)], 1)
    sf.write(path, data.astype(np.float32), rate, subtype=subtype)
    return Path(path)
