"""The ``pooled_target`` method: the masked loss plus a sample-level pooled latent term."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from jepa_core.config import ConfigError, build_config
from jepa_core.method import JEPA
from jepa_core.methods.pooled_target import PooledTargetJEPA, info_nce
from jepa_core.models.pooling import valid_mean
from jepa_core.registry import get_registry
from tests.toy_modality import ToyModality, ToyTokenizer


def _model(method: dict, seed: int = 0) -> JEPA:
    """The registered method of ``method`` on the toy modality (6 features), init seed ``seed``."""
    plugin = ToyModality()
    cfg = build_config(plugin.default_config(), {"method": method})
    torch.manual_seed(seed)
    return get_registry("method").get(cfg.method.name).build(ToyTokenizer(6, cfg.model.dim), cfg)


X = torch.randn(8, 6, generator=torch.Generator().manual_seed(0))
IDS = torch.arange(8)


def test_pooled_target__adds_the_pooled_term_to_the_masked_loss():
    masked = _model({"name": "masked"})
    model = _model({"name": "pooled_target", "weight": 0.5})
    assert isinstance(model, PooledTargetJEPA) and type(masked) is JEPA
    base, out = masked(X, IDS, 3), model(X, IDS, 3)
    # same init seed, the head is built after the masked modules: the masked loss is the same
    assert torch.allclose(out.parts["latent"], base.parts["latent"])
    assert torch.allclose(out.loss, base.loss + 0.5 * out.parts["pooled"])
    # the term, recomputed from the step's tensors: the head on the mean of the valid
    # context tokens against the layer-normalized mean of every target token
    s = model.masked_step(X, IDS, 3)
    target = F.layer_norm(valid_mean(s.z_all, s.tokens.valid), (s.z_all.shape[-1],))
    pred = model.pooled_head(valid_mean(s.z_ctx, s.ctx_keep))
    assert torch.allclose(out.parts["pooled"], model.objective.latent(pred, target))
    out.loss.backward()
    assert model.pooled_head.net[1].weight.grad.abs().sum() > 0
    assert model.encoder.tokenizer.weight.grad.abs().sum() > 0


def test_pooled_target__target_masked_pools_the_teacher_over_the_masked_tokens_only():
    model = _model({"name": "pooled_target", "target": "masked"})
    s = model.masked_step(X, IDS, 3)
    pred, target = model.pooled_prediction(s)
    # the mean over the target blocks' tokens, recomputed per sample from the mask indices
    for b in range(len(X)):
        idx = s.masks.target_idx[b][s.weight[b] > 0]
        want = F.layer_norm(s.z_all[b, idx].mean(0), (s.z_all.shape[-1],))
        assert torch.allclose(target[b], want, atol=1e-5)
    # ... which is not the mean over every token
    every = F.layer_norm(valid_mean(s.z_all, s.tokens.valid), (s.z_all.shape[-1],))
    assert not torch.allclose(target, every, atol=1e-3)
    with pytest.raises(ConfigError, match="method.target"):
        _model({"name": "pooled_target", "target": "tail"})


def test_pooled_target__weight_zero_is_the_masked_method():
    masked, model = _model({"name": "masked"}), _model({"name": "pooled_target", "weight": 0.0})
    assert torch.allclose(model(X, IDS, 0).loss, masked(X, IDS, 0).loss)


@pytest.mark.parametrize("key, value", [("weight", -1.0), ("temperature", -0.1), ("hidden", -2)])
def test_pooled_target__negative_settings_are_config_errors(key, value):
    with pytest.raises(ConfigError, match=f"method.{key}"):
        _model({"name": "pooled_target", key: value})


def test_pooled_target__temperature_makes_the_term_info_nce():
    model = _model({"name": "pooled_target", "temperature": 0.2})
    out = model(X, IDS, 3)
    s = model.masked_step(X, IDS, 3)
    target = F.layer_norm(valid_mean(s.z_all, s.tokens.valid), (s.z_all.shape[-1],))
    pred = model.pooled_head(valid_mean(s.z_ctx, s.ctx_keep))
    logits = F.normalize(pred, dim=-1) @ F.normalize(target, dim=-1).T / 0.2
    assert torch.allclose(out.parts["pooled"], F.cross_entropy(logits, IDS))
    assert torch.allclose(out.parts["pooled"], info_nce(pred, target, 0.2))


def test_pooled_target__training_lowers_the_pooled_term():
    """The teacher left at its init: the student learns to predict its pooled targets."""
    model = _model({"name": "pooled_target", "weight": 1.0})
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    first = None
    for step in range(60):
        out = model(X, IDS, step)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        first = out.parts["pooled"].item() if first is None else first
    assert out.parts["pooled"].item() < 0.5 * first
