"""Tests for jepa_core.objectives.latent."""

import itertools

import pytest
import torch

from jepa_core.objectives import LATENT_LOSSES, LatentLoss, latent_loss, per_token_loss


def _data(seed=0, shape=(3, 5, 4)):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)


def _direct(p, t, kind):
    """Explicit per-token formulas written out element by element."""
    out = torch.empty(p.shape[:-1])
    for idx in itertools.product(*(range(s) for s in p.shape[:-1])):
        a, b = p[idx], t[idx]
        if kind == "l2":
            v = sum((x - y) ** 2 for x, y in zip(a, b)) / len(a)
        elif kind == "l1":
            v = sum(abs(x - y) for x, y in zip(a, b)) / len(a)
        elif kind == "smooth_l1":
            v = sum(0.5 * (x - y) ** 2 if abs(x - y) < 1 else abs(x - y) - 0.5 for x, y in zip(a, b)) / len(a)
        else:
            v = 1 - (a * b).sum() / (a.norm() * b.norm())
        out[idx] = v
    return out


@pytest.mark.parametrize("kind", LATENT_LOSSES)
def test_per_token_loss__matches_direct_formula(kind):
    p, t = _data()
    torch.testing.assert_close(per_token_loss(p, t, kind), _direct(p, t, kind), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", LATENT_LOSSES)
def test_latent_loss__weighted_mean(kind):
    p, t = _data(1)
    w = torch.rand(3, 5, generator=torch.Generator().manual_seed(2))
    expected = (w * _direct(p, t, kind)).sum() / w.sum()
    torch.testing.assert_close(latent_loss(p, t, w, kind), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", LATENT_LOSSES)
def test_latent_loss__no_weight_is_plain_mean(kind):
    p, t = _data(3)
    torch.testing.assert_close(latent_loss(p, t, None, kind), _direct(p, t, kind).mean(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", LATENT_LOSSES)
def test_latent_loss__zero_weight_tokens_do_not_matter(kind):
    p, t = _data(4)
    w = torch.ones(3, 5)
    w[:, 3:] = 0
    p2 = p.clone()
    p2[:, 3:] = 1e3  # garbage in padded slots
    p2.requires_grad_(True)
    loss = latent_loss(p2, t, w, kind)
    torch.testing.assert_close(loss, latent_loss(p[:, :3], t[:, :3], None, kind))
    loss.backward()
    assert torch.all(p2.grad[:, 3:] == 0)
    assert p2.grad[:, :3].abs().sum() > 0


def test_latent_loss__all_zero_weight_gives_zero_not_nan():
    p, t = _data(5)
    assert latent_loss(p, t, torch.zeros(3, 5)).item() == 0.0


def test_latent_loss__cosine_ignores_scale():
    p, t = _data(6)
    torch.testing.assert_close(latent_loss(3.0 * p, t, kind="cosine"), latent_loss(p, t, kind="cosine"))


def test_latent_loss__bad_inputs_raise():
    p, t = _data(7)
    with pytest.raises(ValueError, match="unknown latent loss"):
        latent_loss(p, t, kind="huber")
    with pytest.raises(ValueError, match="same shape"):
        latent_loss(p, t[..., :2])
    with pytest.raises(ValueError, match="weight must have shape"):
        latent_loss(p, t, torch.ones(3, 4))
    with pytest.raises(ValueError, match="unknown latent loss"):
        LatentLoss("mse")


def test_latent_loss_module__same_as_function():
    p, t = _data(8)
    w = (torch.rand(3, 5, generator=torch.Generator().manual_seed(0)) > 0.3).float()
    torch.testing.assert_close(LatentLoss("l1")(p, t, w), latent_loss(p, t, w, "l1"))
