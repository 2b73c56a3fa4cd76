"""Make Triton's CPU interpreter accept runtime loop bounds under NumPy >= 2.4.

The interpreter holds every scalar as a one-element array and turns it into a Python
int for ``range(...)`` with ``int(array)``; NumPy 2.4 refuses that for arrays with a
dimension, so any kernel looping to a runtime bound fails under ``TRITON_INTERPRET=1``.
:func:`patch` re-installs the interpreter's ``tensor.__index__`` with ``.item()``. It
does nothing when NumPy still accepts the conversion, and never touches compiled runs.
"""

from __future__ import annotations

import functools

import numpy as np


def _numpy_refuses_size1_int() -> bool:
    try:
        int(np.ones(1, dtype=np.int32))
    except TypeError:
        return True
    return False


@functools.lru_cache(maxsize=None)
def patch() -> bool:
    """Patch the interpreter once if needed; returns True when it was patched."""
    if not _numpy_refuses_size1_int():
        return False
    from triton.runtime import interpreter

    original = interpreter._patch_lang_tensor

    def _patch_lang_tensor(tensor, scope):
        original(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.reshape(-1)[0]))

    interpreter._patch_lang_tensor = _patch_lang_tensor
    return True
