"""Tests for jepa_core.objectives.vicreg."""

import pytest
import torch

from jepa_core.objectives import VICRegCovariance, VICRegVariance, per_dim_std, vicreg_covariance, vicreg_variance


def _z(seed=0, n=20, d=5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) * torch.linspace(0.2, 2.0, d)


def test_vicreg_variance__matches_direct_formula():
    z = _z()
    n, d = z.shape
    total = 0.0
    for j in range(d):
        col = z[:, j].tolist()
        mean = sum(col) / n
        var = sum((v - mean) ** 2 for v in col) / (n - 1)
        total += max(0.0, 1.0 - (var + 1e-4) ** 0.5)
    assert vicreg_variance(z).item() == pytest.approx(total / d, rel=1e-5)
    assert VICRegVariance()(z).item() == pytest.approx(total / d, rel=1e-5)


def test_vicreg_covariance__matches_direct_formula():
    z = _z(1)
    n, d = z.shape
    mean = z.mean(0)
    total = 0.0
    for a in range(d):
        for b in range(d):
            if a != b:
                c = sum((z[i, a] - mean[a]) * (z[i, b] - mean[b]) for i in range(n)) / (n - 1)
                total += float(c) ** 2
    assert vicreg_covariance(z).item() == pytest.approx(total / d, rel=1e-5)
    assert VICRegCovariance()(z).item() == pytest.approx(total / d, rel=1e-5)


def test_per_dim_std__matches_torch_std():
    z = _z(2)
    torch.testing.assert_close(per_dim_std(z, eps=0.0), z.std(0))


def test_vicreg__collapse_is_penalized_and_differentiable():
    z = torch.zeros(16, 4, requires_grad=True)
    v = vicreg_variance(z)
    assert v.item() == pytest.approx(1.0 - 1e-2, abs=1e-6)
    v.backward()
    assert torch.isfinite(z.grad).all()
    y = torch.randn(16, 1, generator=torch.Generator().manual_seed(0)).expand(16, 4)
    assert vicreg_covariance(y).item() > 0.1
    assert vicreg_covariance(torch.eye(4) * 2).item() == pytest.approx(vicreg_covariance(torch.eye(4)).item() * 16)


def test_vicreg__bad_input_raises():
    with pytest.raises(ValueError, match=r"\[n, D\]"):
        vicreg_variance(torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"\[n, D\]"):
        vicreg_covariance(torch.zeros(3))


def test_vicreg_covariance__float32_under_autocast():
    z = _z(3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = vicreg_covariance(z)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, vicreg_covariance(z))
