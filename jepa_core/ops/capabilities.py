"""Capability flags: which compiled paths exist in this environment, decided once.

This module is the only place that imports the compiled extension or Triton. Everything
else asks it (``compiled_cpu()``, ``compiled_cuda()``, ``triton_available()``) and falls
back to the pure-PyTorch references, warning once when a fast path is missing.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
import warnings

import torch


REBUILD = "pip install --no-build-isolation -e . (or reinstall jepa-core built against this torch)"


@functools.lru_cache(maxsize=None)
def _load_extension():
    """``(module, None)``, or ``(None, why it is absent)``."""
    if os.environ.get("JEPA_DISABLE_EXTENSION", "0") == "1":
        return None, "disabled (JEPA_DISABLE_EXTENSION=1)"
    try:
        return importlib.import_module("jepa_core._C"), None
    except ModuleNotFoundError as e:
        if e.name != "jepa_core._C":
            raise
        return None, "not built"
    except ImportError as e:  # built, but for another torch (undefined symbol) or platform
        return None, (f"built but fails to load with torch {torch.__version__} ({e}); "
                      f"rebuild: {REBUILD}")


def _extension():
    return _load_extension()[0]


def extension_loaded() -> bool:
    """True when ``jepa_core._C`` was built and imported (registering ``torch.ops.jepa``)."""
    return _extension() is not None


def extension_problem() -> str | None:
    """Why ``jepa_core._C`` is not loaded (``not built``, a load error, ...), or ``None``."""
    return _load_extension()[1]


def has_op(name: str) -> bool:
    """True when ``torch.ops.jepa.<name>`` is registered."""
    return extension_loaded() and hasattr(torch.ops.jepa, name)


def _op_has_kernel(name: str, dispatch_key: str) -> bool:
    if not has_op(name):
        return False
    op = getattr(torch.ops.jepa, name)
    return any(torch._C._dispatch_has_kernel_for_dispatch_key(getattr(op, o).name(), dispatch_key)
               for o in op.overloads())


def compiled_cpu(name: str) -> bool:
    """True when op ``name`` has a compiled CPU kernel."""
    return _op_has_kernel(name, "CPU")


def compiled_cuda(name: str) -> bool:
    """True when op ``name`` has a compiled CUDA kernel."""
    return _op_has_kernel(name, "CUDA")


@functools.lru_cache(maxsize=None)
def triton_available() -> bool:
    """True when Triton imports and can run here (a CUDA device, or the interpreter)."""
    if os.environ.get("JEPA_DISABLE_TRITON", "0") == "1":
        return False
    try:
        importlib.import_module("triton")
    except ImportError:
        return False
    return True


def triton_version() -> str | None:
    """The installed Triton's version (from its package metadata), ``None`` without Triton.

    Examples:
        >>> triton_version() is None or isinstance(triton_version(), str)
        True
    """
    try:
        return importlib.metadata.version("triton")
    except importlib.metadata.PackageNotFoundError:
        return None


def triton_interpreting() -> bool:
    """True when Triton runs kernels in its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


@functools.lru_cache(maxsize=None)
def warn_once(message: str) -> None:
    """Emit ``message`` as a warning the first time only."""
    warnings.warn(message, stacklevel=3)


def summary() -> dict:
    """What ``jepa info`` prints about compiled paths."""
    ops = {}
    if extension_loaded():
        # dir(torch.ops.jepa) only lists ops already looked up: ask the dispatcher instead.
        names = {n.split("::", 1)[1] for n in torch._C._dispatch_get_all_op_names() if n.startswith("jepa::")}
        for name in sorted(names):
            ops[name] = [d for d, ok in (("cpu", compiled_cpu(name)), ("cuda", compiled_cuda(name))) if ok]
    out = {
        "extension": extension_loaded(),
        "ops": ops,
        "triton": triton_available(),
        "triton_version": triton_version(),
        "triton_interpreter": triton_interpreting(),
        "cuda_available": torch.cuda.is_available(),
    }
    if extension_problem() is not None:
        out["extension_problem"] = extension_problem()
    return out
