import pytest

from jepa_core.targets import ema_momentum
from jepa_core.train.schedules import cosine, warmup_cosine


def test_warmup_cosine__shape():
    vals = [warmup_cosine(s, 100, 1.0, 0.1, 10) for s in range(101)]
    assert vals[0] == pytest.approx(0.1) and vals[10] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(vals[:10], vals[1:11]))
    assert all(a >= b for a, b in zip(vals[10:], vals[11:]))
    assert vals[100] == pytest.approx(0.1)


def test_cosine__endpoints_and_midpoint():
    assert cosine(0, 10, 0.04, 0.4) == pytest.approx(0.04)
    assert cosine(5, 10, 0.04, 0.4) == pytest.approx(0.22)
    assert cosine(10, 10, 0.04, 0.4) == pytest.approx(0.4)


def test_ema_momentum__linear_and_clamped():
    assert ema_momentum(0, 10, 0.99, 1.0) == pytest.approx(0.99)
    assert ema_momentum(20, 10, 0.99, 1.0) == pytest.approx(1.0)
