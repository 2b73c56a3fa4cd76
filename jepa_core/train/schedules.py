"""Schedules as pure functions of the step, so a resumed run follows them exactly."""

from __future__ import annotations

import math


def cosine(step: int, total: int, start: float, end: float) -> float:
    """Half-cosine from ``start`` (step 0) to ``end`` (step ``total``).

    Examples:
        >>> cosine(0, 10, 1.0, 0.0), cosine(10, 10, 1.0, 0.0)
        (1.0, 0.0)
    """
    frac = min(max(step / max(total, 1), 0.0), 1.0)
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * frac))


def warmup_cosine(step: int, total: int, peak: float, final: float, warmup: int) -> float:
    """Linear warmup from ``final`` to ``peak`` over ``warmup`` steps, then cosine to ``final``.

    Examples:
        >>> warmup_cosine(5, 100, 1.0, 0.0, 10)
        0.5
    """
    if warmup > 0 and step < warmup:
        return final + (peak - final) * step / warmup
    return cosine(step - warmup, total - warmup, peak, final)
