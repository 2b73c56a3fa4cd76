"""Tests for jepa_core.objectives.variance_hinge."""

import pytest
import torch

from jepa_core.objectives import VarianceHinge, variance_hinge, vicreg_variance


def _direct(z, gamma, eps=1e-4):
    """AD-L-JEPA: mean over dims of relu(gamma - sqrt(unbiased var + eps))."""
    n, d = z.shape
    total = 0.0
    for j in range(d):
        col = z[:, j].tolist()
        mean = sum(col) / n
        var = sum((v - mean) ** 2 for v in col) / (n - 1)
        total += max(0.0, gamma - (var + eps) ** 0.5)
    return total / d


def _z(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(30, 6, generator=g) * torch.linspace(0.05, 1.5, 6)


def test_variance_hinge__matches_direct_formula():
    z = _z()
    for gamma in (1.0, 0.5, 1.0 / 16):
        assert variance_hinge(z, gamma).item() == pytest.approx(_direct(z, gamma), rel=1e-5, abs=1e-7)
    assert VarianceHinge(0.5)(z).item() == pytest.approx(_direct(z, 0.5), rel=1e-5)


def test_variance_hinge__gamma_one_equals_vicreg_variance():
    z = _z(1)
    torch.testing.assert_close(variance_hinge(z, 1.0), vicreg_variance(z))


def test_variance_hinge__gradient_pushes_std_up():
    z = (0.01 * torch.randn(32, 4, generator=torch.Generator().manual_seed(3))).requires_grad_(True)
    opt = torch.optim.SGD([z], lr=5.0)
    first = variance_hinge(z).item()
    for _ in range(20):
        opt.zero_grad()
        variance_hinge(z).backward()
        opt.step()
    assert variance_hinge(z).item() < first


def test_variance_hinge__bad_input_raises():
    z = _z(4)
    with pytest.raises(ValueError, match=r"\[n, D\]"):
        variance_hinge(z[0])
