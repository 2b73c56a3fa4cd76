"""``jepa bench quality MODALITY``: a modality's real-data quality suite, found by entry point.

A modality offers a suite by declaring, in the entry-point group
``jepa_core.quality_benchmarks``, a ``run(device, out_dir, quick) -> dict`` under its own
name (tabular: ``modalities.tabular.bench_quality:run``), so the engine never imports a
plugin's benchmark code directly.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Callable

#: The entry-point group of quality suites, one per modality name.
GROUP = "jepa_core.quality_benchmarks"


def quality_suites() -> list[str]:
    """Names of the modalities with a quality suite, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def quality_benchmark(modality: str | None) -> Callable[..., dict]:
    """The ``run`` of ``modality``'s quality suite.

    Raises:
        ValueError: no modality given, or none registered under that name (listing those
            that are).
    """
    known = quality_suites()
    if not modality:
        raise ValueError(f"jepa bench quality needs a modality: one of {', '.join(known) or '(none installed)'}")
    found = [ep for ep in entry_points(group=GROUP) if ep.name == modality]
    if not found:
        raise ValueError(f"no quality suite for modality {modality!r}; suites: {', '.join(known) or '(none)'}")
    return found[-1].load()
