"""The demo's sound synthesizer: eight classes that differ in spectro-temporal structure.

Every clip is 2 s at 16 kHz. Pitch, band, rate, timing, level and background noise are
drawn at random per clip, and the pairs of classes share their frequency ranges so that
the average spectrum alone does not tell them apart:

- ``chirp_up`` / ``chirp_down``: a logarithmic sweep over the same random band, upwards
  or downwards (the same spectrum, reversed in time);
- ``am_tone`` / ``fm_tone``: a tone at a random carrier, its loudness (AM) or its pitch
  (FM, vibrato) modulated at 4-12 Hz;
- ``clicks_slow`` / ``clicks_fast``: trains of short noise clicks at 2-5 or 12-25 per
  second, with jittered timing;
- ``noise_bursts`` / ``noise_steady``: band-limited noise in a random band, in 2-4 short
  bursts or held steadily.
"""

from __future__ import annotations

import numpy as np

RATE = 16000
SECONDS = 2.0
CLASSES = ("chirp_up", "chirp_down", "am_tone", "fm_tone", "clicks_slow", "clicks_fast",
           "noise_bursts", "noise_steady")


def _fade(n: int, rate: int, ms: float = 15.0) -> np.ndarray:
    env = np.ones(n)
    k = min(n // 2, int(rate * ms / 1000))
    if k > 0:
        ramp = np.sin(np.linspace(0, np.pi / 2, k)) ** 2
        env[:k], env[n - k:] = ramp, ramp[::-1]
    return env


def _segment(rng: np.random.Generator, n: int, lo: float, hi: float) -> tuple[int, int]:
    """A random ``[start, stop)`` of ``lo``-``hi`` of ``n`` samples."""
    length = int(n * rng.uniform(lo, hi))
    start = int(rng.integers(0, n - length + 1))
    return start, start + length


def band_noise(rng: np.random.Generator, n: int, rate: int, lo_hz: float, hi_hz: float) -> np.ndarray:
    """White noise band-passed to ``[lo_hz, hi_hz]`` in the frequency domain, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    spec[(freqs < lo_hz) | (freqs > hi_hz)] = 0
    y = np.fft.irfft(spec, n)
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-12)


def sound(kind: str, rng: np.random.Generator, rate: int = RATE, seconds: float = SECONDS) -> np.ndarray:
    """One clip of class ``kind`` (float64, peak below 1)."""
    n = int(rate * seconds)
    t = np.arange(n) / rate
    y = np.zeros(n)
    if kind in ("chirp_up", "chirp_down"):
        lo = rng.uniform(300, 1200)
        hi = lo * rng.uniform(2.5, 5.0)
        a, b = _segment(rng, n, 0.4, 0.8)
        tt = np.arange(b - a) / rate
        dur = (b - a) / rate
        f0, f1 = (lo, hi) if kind == "chirp_up" else (hi, lo)
        k = np.log(f1 / f0)
        phase = 2 * np.pi * f0 * dur / k * (np.exp(k * tt / dur) - 1)
        y[a:b] = np.sin(phase) * _fade(b - a, rate)
    elif kind in ("am_tone", "fm_tone"):
        fc = rng.uniform(400, 3000)
        fm = rng.uniform(4, 12)
        a, b = _segment(rng, n, 0.5, 0.95)
        tt = t[: b - a]
        if kind == "am_tone":
            depth = rng.uniform(0.7, 1.0)
            seg = (1 - depth * 0.5 * (1 + np.sin(2 * np.pi * fm * tt))) * np.sin(2 * np.pi * fc * tt)
        else:
            dev = fc * rng.uniform(0.06, 0.15)
            seg = np.sin(2 * np.pi * fc * tt + dev / fm * np.sin(2 * np.pi * fm * tt))
        y[a:b] = seg * _fade(b - a, rate)
    elif kind in ("clicks_slow", "clicks_fast"):
        per_s = rng.uniform(2, 5) if kind == "clicks_slow" else rng.uniform(12, 25)
        lo = rng.uniform(500, 3000)
        click = band_noise(rng, int(0.004 * rate), rate, lo, min(lo * 3, rate / 2 - 1))
        click *= np.exp(-np.arange(len(click)) / (0.0012 * rate))
        a, b = _segment(rng, n, 0.6, 1.0)
        pos = a / rate + rng.uniform(0, 1 / per_s)
        while pos < b / rate - 0.005:
            i = int(pos * rate)
            y[i:i + len(click)] += click[: n - i]
            pos += (1 / per_s) * rng.uniform(0.85, 1.15)
    elif kind in ("noise_bursts", "noise_steady"):
        lo = rng.uniform(200, 3000)
        noise = band_noise(rng, n, rate, lo, lo * rng.uniform(1.5, 2.5))
        if kind == "noise_steady":
            a, b = _segment(rng, n, 0.7, 1.0)
            y[a:b] = noise[a:b] * _fade(b - a, rate, 40)
        else:
            for _ in range(int(rng.integers(2, 5))):
                a, b = _segment(rng, n, 0.05, 0.12)
                y[a:b] += noise[a:b] * _fade(b - a, rate, 5)
    else:
        raise ValueError(f"unknown demo sound {kind!r}; known: {CLASSES}")
    y /= np.max(np.abs(y)) + 1e-12
    snr_db = rng.uniform(10, 30)
    y = y + rng.standard_normal(n) * 10 ** (-snr_db / 20) * 0.3
    return y / np.max(np.abs(y)) * rng.uniform(0.1, 0.9)


def write_sounds(root, per_class: int, seed: int = 0, classes=CLASSES) -> None:
    """``per_class`` 16-bit WAV files of each class in ``root/<class>/<i>.wav``."""
    import soundfile as sf
    from pathlib import Path

    rng = np.random.default_rng(seed)
    for kind in classes:
        folder = Path(root) / kind
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            sf.write(folder / f"{i:03d}.wav", sound(kind, rng).astype(np.float32), RATE, subtype="PCM_16")
