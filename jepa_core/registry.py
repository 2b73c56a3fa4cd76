"""Component registries: modalities, maskers, objective terms, targets, predictors, ...

Every kind of component is found the same way: through its entry-point group
(``jepa_core.maskers``, ...), the built-ins through the package's own entry points in
``pyproject.toml``. A third party adds one by declaring an entry point in its own
package; nothing in ``jepa_core`` changes.

An entry that fails to import, names a missing object or a class of the wrong kind warns
and is left out, and the reason is kept: asking for that name later says it failed and
why (not "unknown"). A duplicate name warns and the later one wins. Nothing is loaded
until a registry is first asked, so ``import jepa_core`` stays light.

A component class may carry ``config_class``, a dataclass deriving from
:class:`~jepa_core.config.ComponentConfig` (:class:`~jepa_core.config.TargetConfig` for
target providers): the run config's section for that kind (e.g. ``mask: {name:
multiblock, num_targets: 4}``, ``target: {kind: ema, momentum: [0.996, 1.0]}``) is
validated against it, and the component is built from it.

Examples:
    >>> sorted(REGISTRIES)[:3]
    ['masker', 'method', 'modality']
    >>> "multiblock" in get_registry("masker").list()
    True
"""

from __future__ import annotations

import dataclasses
import importlib
import warnings
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any


class UnknownComponentError(LookupError, ValueError):
    """No component of that kind is registered under the requested name (or it failed to load).

    Also a ``ValueError``: like any other bad config value, it ends ``jepa`` with one
    ``error:`` line.
    """


class UnknownModalityError(UnknownComponentError):
    """No modality plugin is registered under the requested name (or it failed to load)."""


@dataclass
class Registry:
    """Named components of one kind, filled from one entry-point group.

    Args:
        kind: what the components are, in messages (``masker``).
        group: the entry-point group (``jepa_core.maskers``).
        base: ``"module:Class"`` every registered class must derive from (imported on
            first use, so registries stay import-light).
        selected_by: the config key that names the component (``mask.name``), if any.
        error: the exception class raised for an unknown or failed name.
        config_base: ``"module:Class"`` every ``config_class`` must derive from.
    """

    kind: str
    group: str
    base: str
    selected_by: str
    error: type[UnknownComponentError] = UnknownComponentError
    config_base: str = "jepa_core.config:ComponentConfig"
    _classes: dict[str, type] = field(default_factory=dict, repr=False)
    _sources: dict[str, str] = field(default_factory=dict, repr=False)
    _failures: dict[str, str] = field(default_factory=dict, repr=False)
    _discovered: bool = field(default=False, repr=False)

    def base_class(self) -> type:
        return _import(self.base)

    def config_base_class(self) -> type:
        """The class every ``config_class`` of this kind derives from (and the default one)."""
        return _import(self.config_base)

    def register(self, name: str, cls: type, source: str = "runtime") -> None:
        """Register ``cls`` as ``name``; a duplicate name warns and the new one wins.

        Raises:
            TypeError: ``cls`` is not a class deriving from this kind's base, or its
                ``config_class`` is not a dataclass deriving from ``config_base``.
        """
        base = self.base_class()
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise TypeError(f"{cls!r} is not a {base.__module__}.{base.__qualname__} subclass "
                            f"(required of a {self.kind})")
        config_class = getattr(cls, "config_class", None)
        if config_class is not None:
            config_base = self.config_base_class()
            if not (isinstance(config_class, type) and dataclasses.is_dataclass(config_class)
                    and issubclass(config_class, config_base)):
                raise TypeError(f"{cls.__qualname__}.config_class must be a dataclass deriving "
                                f"from {config_base.__module__}.{config_base.__qualname__}, "
                                f"got {config_class!r}")
        if name in self._classes and self._classes[name] is not cls:
            warnings.warn(f"{self.kind} {name!r} from {source} replaces the one from "
                          f"{self._sources[name]}", stacklevel=2)
        self._classes[name] = cls
        self._sources[name] = source
        self._failures.pop(name, None)

    def discover(self) -> None:
        """Load this kind's entry points once; broken ones warn and are left out."""
        if self._discovered:
            return
        self._discovered = True
        for ep in entry_points(group=self.group):
            dist = getattr(ep, "dist", None)
            source = f"{ep.value} ({dist.name if dist else 'unknown distribution'})"
            try:
                self.register(ep.name, ep.load(), source)
            except Exception as e:  # a broken plugin must not break the others
                reason = f"{type(e).__name__}: {e}"
                self._failures[ep.name] = f"{ep.value}: {reason}"
                warnings.warn(f"{self.kind} plugin {ep.name!r} ({ep.value}) failed to load: "
                              f"{reason}", stacklevel=2)

    def list(self) -> dict[str, str]:
        """Registered names mapped to where each comes from, sorted."""
        self.discover()
        return dict(sorted(self._sources.items()))

    def failures(self) -> dict[str, str]:
        """Entry points that failed to load, mapped to the reason."""
        self.discover()
        return dict(sorted(self._failures.items()))

    def get(self, name: str) -> type:
        """The class registered as ``name``.

        Raises:
            UnknownComponentError: (or this registry's ``error``) naming the registered
                ones, or saying that ``name``'s plugin failed to load and why.
        """
        self.discover()
        if name in self._classes:
            return self._classes[name]
        if name in self._failures:
            raise self.error(f"{self.kind} {name!r} is installed but its plugin failed to load "
                             f"({self._failures[name]})")
        known = ", ".join(sorted(self._classes)) or "none"
        where = f" ({self.selected_by})" if self.selected_by else ""
        raise self.error(f"unknown {self.kind} {name!r}{where}; registered: {known}")

    def create(self, name: str, **kwargs: Any) -> Any:
        """Instantiate the class registered as ``name`` with ``kwargs``."""
        return self.get(name)(**kwargs)

    def config_class(self, name: str) -> type:
        """The config dataclass of ``name`` (``config_base`` when it declares none)."""
        return getattr(self.get(name), "config_class", None) or self.config_base_class()


def _import(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


#: Every kind of component, by kind name.
REGISTRIES: dict[str, Registry] = {r.kind: r for r in (
    Registry("modality", "jepa_core.modalities", "jepa_core.modality:ModalityPlugin",
             "", UnknownModalityError),
    Registry("masker", "jepa_core.maskers", "jepa_core.masking.base:Masker", "mask.name"),
    Registry("objective", "jepa_core.objectives", "jepa_core.objectives.base:ObjectiveTerm",
             "objective.loss"),
    Registry("target", "jepa_core.targets", "jepa_core.targets:TargetProvider", "target.kind",
             config_base="jepa_core.config:TargetConfig"),
    Registry("predictor", "jepa_core.predictors", "jepa_core.models.predictor:Predictor",
             "predictor.name"),
    Registry("pooling", "jepa_core.poolings", "jepa_core.models.pooling:Pooling",
             "pooling.name"),
    Registry("method", "jepa_core.methods", "jepa_core.method:JEPA", "method.name"),
)}


def get_registry(kind: str) -> Registry:
    """The registry of ``kind`` (``modality``, ``masker``, ``objective``, ``target``,
    ``predictor``, ``pooling`` or ``method``)."""
    try:
        return REGISTRIES[kind]
    except KeyError:
        raise KeyError(f"unknown component kind {kind!r}; kinds: {sorted(REGISTRIES)}") from None


def list_components() -> dict[str, dict[str, str]]:
    """Every kind mapped to its registered names and their sources."""
    return {kind: reg.list() for kind, reg in REGISTRIES.items()}


def create_component(kind: str, name: str, **kwargs: Any) -> Any:
    """Instantiate component ``name`` of ``kind``.

    Examples:
        >>> type(create_component("masker", "random_subset")).__name__
        'RandomSubsetMasker'
    """
    return get_registry(kind).create(name, **kwargs)


# -- modalities: the original API, kept -------------------------------------------------

GROUP = REGISTRIES["modality"].group


def register_modality(name: str, cls: type, source: str = "runtime") -> None:
    """Register a plugin class under ``name``; a duplicate name warns and replaces."""
    REGISTRIES["modality"].register(name, cls, source)


def list_modalities() -> dict[str, str]:
    """Registered modality names mapped to where each comes from."""
    return REGISTRIES["modality"].list()


def create_modality(name: str, **kwargs: Any) -> Any:
    """Instantiate the plugin registered as ``name``."""
    return REGISTRIES["modality"].create(name, **kwargs)
