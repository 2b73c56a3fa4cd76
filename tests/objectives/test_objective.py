"""Tests for jepa_core.objectives.objective."""

import pytest
import torch

from jepa_core.config import ConfigError, ObjectiveConfig, from_dict
from jepa_core.objectives import (
    Objective,
    latent_loss,
    sigreg,
    variance_hinge,
    vicreg_covariance,
    vicreg_variance,
)
from jepa_core.objectives.base import Regularizer
from jepa_core.registry import get_registry


def _batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, 6, 8, generator=g, requires_grad=True)
    target = torch.randn(2, 6, 8, generator=g)
    weight = (torch.rand(2, 6, generator=g) > 0.3).float()
    emb = torch.randn(40, 8, generator=g, requires_grad=True)
    return pred, target, weight, emb


def test_objective__latent_only_by_default():
    pred, target, weight, _ = _batch()
    total, parts = Objective.from_config(ObjectiveConfig())(pred, target, weight, None, seed=0, step=0)
    assert list(parts) == ["latent"]
    torch.testing.assert_close(total, latent_loss(pred, target, weight, "smooth_l1"))


def test_objective__all_terms_sum_with_weights():
    pred, target, weight, emb = _batch(1)
    cfg = from_dict(ObjectiveConfig, {"loss": "cosine", "sigreg": 0.5, "sigreg_slices": 32,
                                      "vicreg_variance": 2.0, "vicreg_covariance": 0.1,
                                      "variance_hinge": 3.0, "hinge_gamma": 0.5})
    obj = Objective.from_config(cfg)
    total, parts = obj(pred, target, weight, emb, seed=7, step=11)
    assert list(parts) == ["latent", "sigreg", "vicreg_var", "vicreg_cov", "variance_hinge"]
    expected = {
        "latent": latent_loss(pred, target, weight, "cosine"),
        "sigreg": sigreg(emb, 32, 7, 11),
        "vicreg_var": vicreg_variance(emb),
        "vicreg_cov": vicreg_covariance(emb),
        "variance_hinge": variance_hinge(emb, 0.5),
    }
    for k, v in expected.items():
        assert parts[k] == pytest.approx(v.item(), rel=1e-6)
    want = (expected["latent"] + 0.5 * expected["sigreg"] + 2.0 * expected["vicreg_var"]
            + 0.1 * expected["vicreg_cov"] + 3.0 * expected["variance_hinge"])
    torch.testing.assert_close(total, want)
    total.backward()
    assert pred.grad is not None and emb.grad is not None and emb.grad.abs().sum() > 0
    assert all(isinstance(v, float) for v in parts.values())


def test_objective__zero_weight_terms_are_skipped():
    pred, target, weight, emb = _batch(2)
    obj = Objective(loss="l2", vicreg_covariance=1.0)
    _, parts = obj(pred, target, weight, emb, seed=0, step=0)
    assert list(parts) == ["latent", "vicreg_cov"]


def test_objective__variance_hinge_over_the_batch():
    pred, target, weight, emb = _batch(3)
    obj = Objective(loss="l1", variance_hinge=1.0, hinge_gamma=2.0)
    _, parts = obj(pred, target, weight, emb, seed=0, step=0)
    assert parts["variance_hinge"] == pytest.approx(variance_hinge(emb, 2.0).item())


def test_objective__bad_config_raises():
    with pytest.raises(ValueError, match="unknown latent loss"):
        Objective(loss="mse")
    with pytest.raises(ValueError, match="'sigreg' is a regularizer, not a latent loss"):
        Objective(loss="sigreg")
    with pytest.raises(ValueError, match="sigreg must be a weight"):
        Objective(sigreg=-1.0)
    with pytest.raises(ValueError, match="sigreg_slices"):
        Objective(sigreg=1.0, sigreg_slices=0)
    with pytest.raises(ValueError, match="hinge_gamma"):
        Objective(hinge_gamma=0.0)


def test_objective__missing_embeddings_raises():
    pred, target, weight, _ = _batch(4)
    with pytest.raises(ValueError, match="embeddings"):
        Objective(sigreg=1.0)(pred, target, weight, None, seed=0, step=0)
    with pytest.raises(ValueError, match=r"\[n, D\]"):
        Objective(sigreg=1.0)(pred, target, weight, torch.zeros(2, 3, 4), seed=0, step=0)


class _MeanOffset(Regularizer):
    """A toy third-party regularizer: the norm of the mean of the rows it is given."""

    def forward(self, z, *, mask=None, seed=0, step=0, sync=True):
        rows = z if mask is None else z[mask]
        return rows.mean(0).norm()


def test_objective__a_registered_regularizer_is_switched_on_by_its_weight():
    get_registry("objective").register("test-mean-offset", _MeanOffset)
    pred, target, weight, emb = _batch(3)
    mask = torch.arange(40) % 3 != 0
    cfg = from_dict(ObjectiveConfig, {"loss": "l2", "regularizers": {"test-mean-offset": 0.5}})
    obj = Objective.from_config(cfg)
    assert obj.regularized
    total, parts = obj.terms(pred, target, weight, emb, seed=0, step=0, embedding_mask=mask)
    want = emb[mask].mean(0).norm()
    torch.testing.assert_close(parts["test-mean-offset"], want.detach())
    torch.testing.assert_close(total, latent_loss(pred, target, weight, "l2") + 0.5 * want)
    zero = Objective.from_config(from_dict(ObjectiveConfig, {"regularizers": {"test-mean-offset": 0}}))
    assert not zero.regularized


@pytest.mark.parametrize("weights, message", [
    ({"l2": 1.0}, "'l2' is a latent loss"),
    ({"sigreg": 1.0}, "has its own weight, set objective.sigreg"),
    ({"nope": 1.0}, "unknown"),
    ({"vicreg_covariance": -1.0}, "must be a weight >= 0"),
])
def test_objective__bad_regularizers_entry_is_a_clear_error(weights, message):
    with pytest.raises(ValueError, match=message):
        Objective(regularizers=weights)


def test_objective_config__regularizer_weight_must_be_a_number():
    with pytest.raises(ConfigError, match=r"objective\.regularizers\.x: expected a number"):
        from_dict(ObjectiveConfig, {"regularizers": {"x": "heavy"}}, where="objective")


def test_builtin_regularizers__share_one_call_convention():
    emb = torch.randn(30, 4, generator=torch.Generator().manual_seed(0))
    mask = torch.arange(30) < 20
    for name, fn in [("vicreg_variance", lambda z: vicreg_variance(z)),
                     ("vicreg_covariance", lambda z: vicreg_covariance(z)),
                     ("variance_hinge", lambda z: variance_hinge(z))]:
        reg = get_registry("objective").get(name)()
        torch.testing.assert_close(reg(emb, mask=mask, seed=1, step=2), fn(emb[mask]))
