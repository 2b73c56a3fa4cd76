"""The attentive probe: it finds the one token that carries the label, where pooling fails."""

import numpy as np
import pytest
import torch

from jepa_core.eval import (AttentivePooler, AttentiveProbeConfig, attentive_probe, attentive_probe_features,
                            linear_probe)


def flagged_tokens(samples: int, tokens: int = 12, seed: int = 0):
    """Each sample's label is the sign of the value of one token, at a random position,
    marked by a flag; every other token holds a random value too."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((samples, tokens))
    where = rng.integers(0, tokens, samples)
    flag = np.zeros((samples, tokens))
    flag[np.arange(samples), where] = 1.0
    x = np.stack([flag, values, rng.standard_normal((samples, tokens))], axis=-1).astype(np.float32)
    y = (values[np.arange(samples), where] > 0).astype(int)
    return x, y


CFG = AttentiveProbeConfig(steps=300, batch_size=64, lr=3e-3, width=32, heads=4)


def test_attentive_probe__finds_the_flagged_token_where_mean_pooling_fails():
    x, y = flagged_tokens(800)
    train, test = np.arange(600), np.arange(600, 800)
    attentive = attentive_probe_features(x, None, y, "classification", "accuracy", train, test, CFG)
    pooled = x.mean(axis=1)
    mean_pooled = linear_probe(pooled[train], y[train], pooled[test], y[test], "classification", "accuracy")
    assert attentive > 0.9
    assert mean_pooled < 0.7


def test_attentive_probe__padding_is_ignored():
    x, y = flagged_tokens(400, seed=1)
    valid = np.ones(x.shape[:2], dtype=bool)
    padded = np.concatenate([x, np.full((400, 5, 3), 50.0, np.float32)], axis=1)  # junk padding
    valid = np.concatenate([valid, np.zeros((400, 5), bool)], axis=1)
    cfg = AttentiveProbeConfig(steps=20, width=32)
    a = attentive_probe(x[:300], None, y[:300], x[300:], None, y[300:], "classification", "accuracy", cfg)
    b = attentive_probe(padded[:300], valid[:300], y[:300], padded[300:], valid[300:], y[300:],
                        "classification", "accuracy", cfg)
    assert a == pytest.approx(b, abs=0.02)


def test_attentive_probe__deterministic_by_seed_and_leaves_the_global_rng_alone():
    x, y = flagged_tokens(200, seed=2)
    cfg = AttentiveProbeConfig(steps=15, width=16)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = attentive_probe(x[:150], None, y[:150], x[150:], None, y[150:], "classification", "accuracy", cfg)
    assert torch.equal(torch.get_rng_state(), before)
    b = attentive_probe(x[:150], None, y[:150], x[150:], None, y[150:], "classification", "accuracy", cfg)
    assert a == b


def test_attentive_probe__regression():
    x, _ = flagged_tokens(600, seed=3)
    where = x[..., 0].argmax(axis=1)
    y = x[np.arange(600), where, 1] * 3.0 + 10.0  # the flagged token's value, scaled and shifted
    r2 = attentive_probe(x[:450], None, y[:450], x[450:], None, y[450:], "regression", ("r2",), CFG)
    assert r2["r2"] > 0.8


def test_attentive_probe__refuses_token_level_labels():
    x, y = flagged_tokens(20)
    with pytest.raises(ValueError, match="sample-level"):
        attentive_probe(x, None, np.zeros((20, 12), int), x, None, np.zeros((20, 12), int),
                        "classification", "miou")


def test_attentive_pooler__a_sample_with_no_valid_token_stays_finite():
    pool = AttentivePooler(3, 2, width=8, heads=2)
    valid = torch.zeros(2, 4, dtype=torch.bool)
    valid[0, 1] = True
    assert torch.isfinite(pool(torch.randn(2, 4, 3), valid)).all()
