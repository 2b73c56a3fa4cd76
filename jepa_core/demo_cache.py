"""Where plugins keep their embedded demo data: written once, renamed into place.

A plugin's demo is generated on first use (no download) into the user cache; every
later call finds it there. Writing goes to a temporary folder beside the target that is
renamed into place when complete, so concurrent callers never see half a dataset.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable


def cache_root() -> Path:
    """``$JEPA_CACHE_DIR`` or ``~/.cache/jepa_core``."""
    return Path(os.environ.get("JEPA_CACHE_DIR") or Path.home() / ".cache" / "jepa_core")


def cached_folder(name: str, write: Callable[[Path], None]) -> Path:
    """``<cache>/NAME``, written once by ``write(folder)`` (a ``DONE`` file marks it complete).

    Args:
        name: the folder's name under :func:`cache_root`; put a version and the
            generator's settings in it, so a changed generator writes a new one.
        write: fills the (empty, temporary) folder it is given.

    Examples:
        >>> import tempfile
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"JEPA_CACHE_DIR": tempfile.mkdtemp()}):
        ...     root = cached_folder("demo_v1", lambda d: (d / "a.txt").write_text("x"))
        ...     again = cached_folder("demo_v1", lambda d: 1 / 0)  # not written again
        >>> sorted(p.name for p in root.iterdir()), again == root
        (['DONE', 'a.txt'], True)
    """
    root = cache_root() / name
    if (root / "DONE").is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{name}_"))
    write(tmp)
    (tmp / "DONE").write_text("ok\n")
    try:
        tmp.rename(root)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return root
