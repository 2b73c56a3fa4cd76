"""The ``ui_session`` method: the masked loss plus a session-level latent term."""

from __future__ import annotations

import pytest
import torch

from jepa_core.config import ConfigError, build_config
from jepa_core.method import JEPA
from jepa_core.registry import create_modality, get_registry
from jepa_core.models.pooling import valid_mean
from modalities.ui.session_method import SessionJEPA, span_means

from .second_sim import write_second_sim
from .test_cli import pretrain_and_probe

SMALL = {"dim": 16, "depth": 1, "heads": 2, "predictor_dim": 16, "predictor_depth": 1,
         "predictor_heads": 2}


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    return write_second_sim(tmp_path_factory.mktemp("ui_session") / "sessions", num=40)


def _model(sessions, method: dict, seed: int = 0):
    """``(model, batch)``: the registered method of ``method`` on 8 sessions, init seed ``seed``."""
    plugin = create_modality("ui")
    cfg = build_config({"modality": "ui"}, plugin.default_config(), {"model": SMALL, "method": method})
    dataset, state = plugin.load(str(sessions), cfg, None)
    torch.manual_seed(seed)
    model = get_registry("method").get(cfg.method.name).build(plugin.build_tokenizer(cfg, state), cfg)
    return model, plugin.collate([dataset[i] for i in range(8)])


def test_valid_mean__ignores_padding():
    z = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]], [[5.0, 6.0], [0.0, 0.0], [0.0, 0.0]]])
    keep = torch.tensor([[True, True, False], [False, False, False]])
    assert valid_mean(z, keep).tolist() == [[2.0, 3.0], [0.0, 0.0]]


def test_session__adds_the_pooled_term_to_the_masked_loss(sessions):
    masked, batch = _model(sessions, {"name": "masked"})
    # temperature 0: the run's latent loss (the plugin's defaults make the term InfoNCE)
    model, _ = _model(sessions, {"name": "ui_session", "weight": 0.5, "temperature": 0.0})
    assert isinstance(model, SessionJEPA) and type(masked) is JEPA
    ids = torch.arange(8)
    base = masked(batch, ids, 3)
    out = model(batch, ids, 3)
    # same init seed, the head is built after the masked modules: the masked loss is the same
    assert torch.allclose(out.parts["latent"], base.parts["latent"])
    assert torch.allclose(out.loss, base.loss + 0.5 * out.parts["pooled"])
    # the core pooled_target term (tested in tests/methods/test_pooled_target.py)
    s = model.masked_step(batch, ids, 3)
    assert torch.allclose(out.parts["pooled"], model.objective.latent(*model.pooled_prediction(s)))


def test_session__weight_zero_is_the_masked_method(sessions):
    masked, batch = _model(sessions, {"name": "masked"})
    model, _ = _model(sessions, {"name": "ui_session", "weight": 0.0})
    ids = torch.arange(8)
    assert torch.allclose(model(batch, ids, 0).loss, masked(batch, ids, 0).loss)


def test_session__negative_weight_is_a_config_error(sessions):
    with pytest.raises(ConfigError, match="method.weight"):
        _model(sessions, {"name": "ui_session", "weight": -1.0})


def test_session__pretrain_and_probe_from_the_cli(sessions, tmp_path, capsys):
    result = pretrain_and_probe(sessions, tmp_path / "run", capsys, "method.name=ui_session",
                                "method.hidden=8")
    assert 0.0 <= result["pretrained"] <= 1.0


def test_span_means__weighted_per_span():
    pred = torch.tensor([[[[1.0], [3.0], [9.0]], [[2.0], [0.0], [0.0]]]])
    weight = torch.tensor([[[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]])
    p, t, valid = span_means(pred, 2 * pred, weight)
    assert p.tolist() == [[[2.0], [0.0]]] and t.tolist() == [[[4.0], [0.0]]] and valid.tolist() == [[1.0, 0.0]]


def test_session__span_and_token_weights(sessions):
    masked, batch = _model(sessions, {"name": "masked"})
    model, _ = _model(sessions, {"name": "ui_session", "weight": 0.0, "span_weight": 2.0,
                                 "token_weight": 0.0})
    ids = torch.arange(8)
    base, out = masked(batch, ids, 1), model(batch, ids, 1)
    s = model.masked_step(batch, ids, 1)
    span = model.objective.latent(*span_means(s.pred, s.z_tgt, s.weight))
    assert torch.allclose(out.parts["span"], span)
    assert torch.allclose(out.loss, base.loss - base.parts["latent"] + 2.0 * span, atol=1e-6)


def test_session__input_weight_predicts_the_masked_events_input_tokens(sessions):
    from jepa_core.ops import gather_tokens

    base, batch = _model(sessions, {"name": "ui_session", "weight": 0.0})
    model, _ = _model(sessions, {"name": "ui_session", "weight": 0.0, "input_weight": 2.0})
    ids = torch.arange(8)
    out, ref = model(batch, ids, 3), base(batch, ids, 3)
    s = model.masked_step(batch, ids, 3)
    b, m, kt = s.weight.shape
    inputs = gather_tokens(s.tokens.tokens, s.masks.target_idx.reshape(b, m * kt)).view(b, m, kt, -1)
    term = model.objective.latent(model.input_head(s.pred), inputs, s.weight)
    assert torch.allclose(out.parts["input"], term)
    assert torch.allclose(out.loss, ref.loss + 2.0 * term)  # the same init: the head is built last
    out.loss.backward()
    assert model.input_head.weight.grad.abs().sum() > 0
    assert base.input_head is None


def test_session__weights_saved_as_session_head_still_load(sessions):
    """Runs saved before the session head became the core pooled_head."""
    model, batch = _model(sessions, {"name": "ui_session"})
    fresh, _ = _model(sessions, {"name": "ui_session"}, seed=1)
    old = {k.replace("pooled_head.", "session_head."): v for k, v in model.state_dict().items()}
    assert any(k.startswith("session_head.") for k in old)
    fresh.load_state_dict(old)
    ids = torch.arange(8)
    assert torch.equal(fresh(batch, ids, 2).loss, model(batch, ids, 2).loss)
