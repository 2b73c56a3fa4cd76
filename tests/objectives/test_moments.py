"""Tests for the masked mean / variance helper (jepa_core.objectives._distributed)."""

import torch

from jepa_core.method import standardize_per_position
from jepa_core.objectives import masked_mean, masked_moments, per_dim_std


def test_masked_moments__match_the_selected_rows():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(7, 3, 4, generator=g) * 3 + 5
    valid = torch.rand(7, 3, generator=g) > 0.3
    mean, var, n = masked_moments(z, valid.unsqueeze(-1))
    for j in range(3):
        rows = z[valid[:, j], j]
        torch.testing.assert_close(mean[j], rows.mean(0))
        torch.testing.assert_close(var[j], rows.var(0))
        assert n[j, 0] == valid[:, j].sum()


def test_masked_moments__masked_out_rows_never_leak_even_nan():
    z = torch.tensor([[1.0], [3.0], [float("nan")]], requires_grad=True)
    mean, var, _ = masked_moments(z, torch.tensor([[1.0], [1.0], [0.0]]))
    assert (mean.item(), var.item()) == (2.0, 2.0)
    var.sum().backward()
    assert torch.isfinite(z.grad).all() and z.grad[2].item() == 0.0


def test_masked_moments__one_helper_behind_vicreg_and_standardization():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(20, 5, generator=g)
    torch.testing.assert_close(per_dim_std(z, eps=0.0), z.std(0))
    zz = torch.randn(6, 4, 3, generator=g) + 100.0
    valid = torch.rand(6, 4, generator=g) > 0.2
    out = standardize_per_position(zz, valid, eps=0.0)
    mean, _ = masked_mean(out, valid.unsqueeze(-1))
    torch.testing.assert_close(mean, torch.zeros(4, 3), atol=1e-5, rtol=0)
