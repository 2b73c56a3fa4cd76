"""Register ``JepaConfig``/``JepaModel`` with transformers' Auto classes, lazily.

``import jepa_core`` must load neither torch nor transformers, yet after it
``transformers.AutoModel.from_pretrained(DIR)`` should load a ``jepa`` export. So
:func:`install` only places an import hook: when transformers' ``configuration_auto``
(``AutoConfig``) or ``modeling_auto`` (``AutoModel``) module finishes loading, the
``jepa`` classes are registered with it; modules already loaded are registered at once.
Standard library only.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import warnings

_CONFIG = "transformers.models.auto.configuration_auto"
_MODEL = "transformers.models.auto.modeling_auto"


def _register(name: str) -> None:
    try:
        if name == _CONFIG:
            from .hf_config import MODEL_TYPE, JepaConfig

            sys.modules[_CONFIG].AutoConfig.register(MODEL_TYPE, JepaConfig, exist_ok=True)
        else:
            from .hf_model import JepaConfig, JepaModel

            sys.modules[_MODEL].AutoModel.register(JepaConfig, JepaModel, exist_ok=True)
    except Exception as e:  # never break transformers' own import
        warnings.warn(f"jepa_core could not register its 'jepa' model with transformers: {e}", stacklevel=2)


class _Loader(importlib.abc.Loader):
    """Runs the real loader, then registers the ``jepa`` classes with the loaded module."""

    def __init__(self, inner: importlib.abc.Loader, name: str) -> None:
        self.inner, self.name = inner, name

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module) -> None:
        self.inner.exec_module(module)
        _register(self.name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name not in (_CONFIG, _MODEL):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader, name)
        return spec


def install() -> None:
    """Register now with the Auto modules already loaded; hook the others (idempotent)."""
    for name in (_CONFIG, _MODEL):
        if name in sys.modules:
            _register(name)
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
