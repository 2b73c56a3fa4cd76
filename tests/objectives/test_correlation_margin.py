"""Tests for jepa_core.objectives.correlation_margin."""

import numpy as np
import pytest
import torch

from jepa_core.config import ConfigError, ObjectiveConfig, from_dict
from jepa_core.objectives import Objective
from jepa_core.objectives.correlation_margin import CorrelationMargin, correlation_margin


def _correlated(seed=0, n=200, d=5, mix=0.8):
    """Columns sharing a common factor (pairwise correlation about mix^2 / (mix^2 + (1-mix)^2))."""
    g = torch.Generator().manual_seed(seed)
    common = torch.randn(n, 1, generator=g)
    return mix * common + (1 - mix) * torch.randn(n, d, generator=g)


def _direct(z, tau):
    """numpy's Pearson correlation, hinged at tau, squared, off-diagonal summed, / D."""
    corr = np.corrcoef(z.double().numpy(), rowvar=False)
    off = np.abs(corr[~np.eye(z.shape[1], dtype=bool)])
    return float((np.maximum(off - tau, 0.0) ** 2).sum() / z.shape[1])


def test_correlation_margin__matches_direct_formula():
    z = _correlated() * torch.tensor([0.1, 1.0, 3.0, 0.5, 2.0])
    for tau in (0.0, 0.3, 0.6):
        assert correlation_margin(z, tau, eps=0.0).item() == pytest.approx(_direct(z, tau), rel=1e-4)


def test_correlation_margin__scale_free_unlike_vicreg_covariance():
    from jepa_core.objectives import vicreg_covariance

    z = _correlated(1)
    assert correlation_margin(5 * z, 0.2, eps=0.0).item() == pytest.approx(
        correlation_margin(z, 0.2, eps=0.0).item(), rel=1e-4)
    assert vicreg_covariance(5 * z).item() == pytest.approx(625 * vicreg_covariance(z).item(), rel=1e-4)


def test_correlation_margin__zero_below_the_margin():
    z = torch.randn(500, 6, generator=torch.Generator().manual_seed(2))  # |corr| about 0.05
    assert correlation_margin(z, tau=0.3).item() == 0.0
    assert correlation_margin(z, tau=0.0).item() > 0.0


def test_correlation_margin__gradient_decorrelates_only_down_to_the_margin():
    z = _correlated(3, mix=0.9).requires_grad_(True)
    opt = torch.optim.SGD([z], lr=2.0)
    first = correlation_margin(z, 0.4).item()
    for _ in range(300):
        opt.zero_grad()
        correlation_margin(z, 0.4).backward()
        opt.step()
    corr = np.corrcoef(z.detach().double().numpy(), rowvar=False)
    off = np.abs(corr[~np.eye(z.shape[1], dtype=bool)])
    assert first > 0.1 and correlation_margin(z, 0.4).item() < 1e-3 * first
    assert off.max() < 0.45 and off.mean() > 0.3  # down to about tau, not to 0 (not whitened)


def test_correlation_margin__masked_rows_are_ignored():
    z = _correlated(4)
    mask = torch.arange(len(z)) % 3 != 0
    junk = z.clone()
    junk[~mask] = 1e6
    torch.testing.assert_close(correlation_margin(junk, 0.2, mask=mask), correlation_margin(z[mask], 0.2))


def test_correlation_margin__bad_settings_raise():
    with pytest.raises(ValueError, match=r"\[n, D\]"):
        correlation_margin(torch.zeros(4))
    with pytest.raises(ValueError, match="tau"):
        CorrelationMargin(tau=1.0)
    with pytest.raises(ValueError, match="eps"):
        CorrelationMargin(eps=-1.0)


def test_correlation_margin__registered_and_configured_through_objective_terms():
    cfg = from_dict(ObjectiveConfig, {"loss": "cosine", "regularizers": {"correlation_margin": 0.5},
                                      "terms": {"correlation_margin": {"tau": 0.25}}})
    obj = Objective.from_config(cfg)
    assert obj.extra["correlation_margin"].tau == 0.25
    z = _correlated(5)
    pred, target = torch.randn(2, 3, 5), torch.randn(2, 3, 5)
    total, parts = obj(pred, target, None, z, seed=0, step=0)
    assert parts["correlation_margin"] == pytest.approx(correlation_margin(z, 0.25).item(), rel=1e-5)
    assert total.item() == pytest.approx(parts["latent"] + 0.5 * parts["correlation_margin"], rel=1e-5)
    with pytest.raises(ConfigError, match=r"objective\.terms\.correlation_margin\.gamma"):
        Objective.from_config(from_dict(ObjectiveConfig, {"regularizers": {"correlation_margin": 1.0},
                                                          "terms": {"correlation_margin": {"gamma": 1}}}))
