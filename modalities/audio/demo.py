"""The embedded demo dataset: synthesized sounds in class folders, written once and cached."""

from __future__ import annotations

from pathlib import Path

from jepa_core.demo_cache import cached_folder

from .synth import write_sounds

#: Bump when the synthesizer changes, so stale caches are regenerated.
VERSION = 1
PER_CLASS = 80



def demo_root(per_class: int = PER_CLASS, seed: int = 0) -> Path:
    """Write (once) and return ``<cache>/audio_synth_v<VERSION>_.../sounds``: 8 class folders
    of 2 s WAV files (see :mod:`modalities.audio.synth`).

    Written to a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    return cached_folder(f"audio_synth_v{VERSION}_{per_class}_{seed}",
                         lambda tmp: write_sounds(tmp / "sounds", per_class, seed=seed)) / "sounds"
