"""Modality plugin registry, filled from the ``jepa_core.modalities`` entry-point group.

Built-in plugins are found the same way as third-party ones, never by a hard-coded list.
A plugin that fails to load warns and is left out; it never breaks ``import jepa_core``.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from .modality import ModalityPlugin

GROUP = "jepa_core.modalities"



class UnknownModalityError(LookupError):
    """No plugin is registered under the requested name."""


_REGISTRY: dict[str, type[ModalityPlugin]] = {}
_SOURCES: dict[str, str] = {}
_discovered = False


def register_modality(name: str, cls: type[ModalityPlugin], source: str = "runtime") -> None:
    """Register a plugin class under ``name``; a duplicate name warns and replaces."""
    if not (isinstance(cls, type) and issubclass(cls, ModalityPlugin)):
        raise TypeError(f"{cls!r} is not a ModalityPlugin subclass")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        warnings.warn(f"modality {name!r} from {source} replaces the one from {_SOURCES[name]}",
                      stacklevel=2)
    _REGISTRY[name] = cls
    _SOURCES[name] = source


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for ep in entry_points(group=GROUP):
        source = f"{ep.value} ({ep.dist.name if ep.dist else 'unknown distribution'})"
        try:
            cls = ep.load()
            register_modality(ep.name, cls, source)
        except Exception as e:  # a broken plugin must not break the others
            warnings.warn(f"modality plugin {ep.name!r} ({ep.value}) failed to load: "
                          f"{type(e).__name__}: {e}", stacklevel=2)


def list_modalities() -> dict[str, str]:
    """Registered modality names mapped to where each comes from."""
    _discover()
    return dict(sorted(_SOURCES.items()))


def create_modality(name: str, **kwargs) -> ModalityPlugin:
    """Instantiate the plugin registered as ``name``."""
    _discover()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise UnknownModalityError(f"unknown modality {name!r}; registered: {known}")
    return _REGISTRY[name](**kwargs)
