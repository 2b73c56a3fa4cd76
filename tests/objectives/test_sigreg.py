"""Tests for jepa_core.objectives.sigreg."""

import math

import pytest
import torch

from jepa_core.objectives import SIGReg, epps_pulley, epps_pulley_knots, random_slices, sigreg


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_epps_pulley_knots__trapezoid_with_gaussian_window():
    t, phi, w = epps_pulley_knots(17, 3.0)
    assert t[0] == 0 and t[-1] == pytest.approx(3.0) and len(t) == 17
    dt = 3.0 / 16
    expected = [(dt if i in (0, 16) else 2 * dt) * math.exp(-t[i].item() ** 2 / 2) for i in range(17)]
    torch.testing.assert_close(w, torch.tensor(expected))
    torch.testing.assert_close(phi, torch.exp(-t ** 2 / 2))
    # the doubled half-line rule integrates the window over [-3, 3]
    assert w.sum().item() == pytest.approx(math.sqrt(2 * math.pi) * math.erf(3 / math.sqrt(2)), rel=1e-3)


def test_epps_pulley__matches_direct_formula():
    x = torch.randn(50, 3, generator=_gen(1))
    t, phi, w = epps_pulley_knots(17, 3.0)
    n = x.shape[0]
    expected = []
    for s in range(3):
        total = 0.0
        for k in range(17):
            re = sum(math.cos(t[k].item() * v) for v in x[:, s].tolist()) / n
            im = sum(math.sin(t[k].item() * v) for v in x[:, s].tolist()) / n
            total += w[k].item() * ((re - phi[k].item()) ** 2 + im ** 2)
        expected.append(n * total)
    torch.testing.assert_close(epps_pulley(x), torch.tensor(expected), rtol=1e-4, atol=1e-5)


def test_sigreg__small_for_gaussian_large_for_collapsed_or_non_gaussian():
    n, d = 1024, 16
    gauss = sigreg(torch.randn(n, d, generator=_gen(2)), 64, seed=0, step=0)
    collapsed = sigreg(torch.ones(n, d), 64, seed=0, step=0)
    low_rank = sigreg(torch.randn(n, 1, generator=_gen(3)).expand(n, d), 64, seed=0, step=0)
    shrunk = sigreg(0.3 * torch.randn(n, d, generator=_gen(5)), 64, seed=0, step=0)
    assert gauss.item() < 3.0
    for bad in (collapsed, low_rank, shrunk):
        assert bad.item() > 3 * gauss.item()
    assert collapsed.item() > 100.0


def test_epps_pulley__detects_non_gaussian_marginals_with_unit_variance():
    n = 1024
    gauss = epps_pulley(torch.randn(n, 8, generator=_gen(4))).mean()
    uniform = epps_pulley((torch.rand(n, 8, generator=_gen(5)) - 0.5) * math.sqrt(12)).mean()
    rademacher = epps_pulley(torch.randint(0, 2, (n, 8), generator=_gen(6)).float() * 2 - 1).mean()
    assert gauss.item() < 3.0
    assert uniform.item() > 3 * gauss.item()
    assert rademacher.item() > 30 * gauss.item()


def test_random_slices__same_seed_step_same_slices_other_step_differs():
    a = random_slices(32, 16, seed=3, step=7)
    torch.testing.assert_close(a, random_slices(32, 16, seed=3, step=7), rtol=0, atol=0)
    assert not torch.allclose(a, random_slices(32, 16, seed=3, step=8))
    assert not torch.allclose(a, random_slices(32, 16, seed=4, step=7))
    torch.testing.assert_close(a.norm(dim=0), torch.ones(16))


def test_random_slices__independent_of_global_rng():
    torch.manual_seed(0)
    a = random_slices(8, 4, seed=1, step=2)
    torch.manual_seed(123)
    torch.randn(10)
    torch.testing.assert_close(a, random_slices(8, 4, seed=1, step=2), rtol=0, atol=0)


def test_sigreg__deterministic_per_step():
    z = torch.randn(256, 8, generator=_gen(6))
    assert sigreg(z, 16, seed=0, step=1).item() == sigreg(z, 16, seed=0, step=1).item()
    assert sigreg(z, 16, seed=0, step=1).item() != sigreg(z, 16, seed=0, step=2).item()


def test_sigreg__gradient_flows_and_reduces_the_statistic():
    z = (0.2 * torch.randn(512, 8, generator=_gen(7))).requires_grad_(True)
    opt = torch.optim.SGD([z], lr=1.0)
    first = None
    for step in range(30):
        loss = sigreg(z, 32, seed=0, step=step)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
        opt.step()
    assert sigreg(z, 32, seed=0, step=99).item() < 0.5 * first


def test_sigreg__module_matches_function_and_rejects_bad_input():
    z = torch.randn(128, 4, generator=_gen(8))
    torch.testing.assert_close(SIGReg(16)(z, seed=1, step=2), sigreg(z, 16, 1, 2))
    with pytest.raises(ValueError, match=r"\[n, D\]"):
        sigreg(torch.zeros(2, 3, 4), 8)
    with pytest.raises(ValueError, match="num_slices"):
        SIGReg(0)
    with pytest.raises(ValueError, match="num_knots"):
        SIGReg(8, num_knots=1)
    with pytest.raises(ValueError, match="t_max"):
        epps_pulley_knots(17, 0.0)


def test_sigreg__float32_under_autocast_and_low_precision_input():
    z = torch.randn(256, 8, generator=_gen(9))
    ref = sigreg(z, 16, seed=0, step=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = sigreg(z, 16, seed=0, step=0)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref)
    low = sigreg(z.bfloat16(), 16, seed=0, step=0)
    assert low.dtype == torch.float32
    torch.testing.assert_close(low, sigreg(z.bfloat16().float(), 16, seed=0, step=0))
