"""The embedded demo dataset: synthesized sounds in class folders, written once and cached."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from .synth import write_sounds

#: Bump when the synthesizer changes, so stale caches are regenerated.
VERSION = 1
PER_CLASS = 80


def cache_root() -> Path:
    """``$JEPA_CACHE_DIR`` or ``~/.cache/jepa_core``."""
    return Path(os.environ.get("JEPA_CACHE_DIR") or Path.home() / ".cache" / "jepa_core")


def demo_root(per_class: int = PER_CLASS, seed: int = 0) -> Path:
    """Write (once) and return ``<cache>/audio_synth_v<VERSION>_.../sounds``: 8 class folders
    of 2 s WAV files (see :mod:`modalities.audio.synth`).

    Written to a temporary folder and renamed into place, so concurrent callers never
    see a half-written dataset.
    """
    root = cache_root() / f"audio_synth_v{VERSION}_{per_class}_{seed}"
    if (root / "DONE").is_file():
        return root / "sounds"
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=".audio_demo_"))
    write_sounds(tmp / "sounds", per_class, seed=seed)
    (tmp / "DONE").write_text("ok\n")
    try:
        tmp.rename(root)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return root / "sounds"
