"""JEPA with token types, conditions and grid-free batches: weights, masks, conditioning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_core.config import build_config
from jepa_core.method import JEPA
from jepa_core.models import Encoder
from jepa_core.objectives.weights import token_type_weights, type_weight_table
from jepa_core.tokens import TokenBatch
from modalities.lidar import LidarModality
from modalities.lidar.pillars import concat_clouds
from tests.models.test_grid_reference import LIDAR_OPTIONS, SMALL
from tests.modalities.lidar.scans import parking_lot
from tests.toy_modality import (ToyConditionedTokenizer, ToyEventModality, ToyEventTokenizer,
                                ToyTokenizer, pad_events)


def _lidar_loss(objective: dict) -> float:
    torch.manual_seed(1)
    plugin = LidarModality()
    cfg = build_config(plugin.default_config(), {"model": SMALL, "options": LIDAR_OPTIONS,
                                                 "objective": objective})
    model = JEPA.build(plugin.build_tokenizer(cfg, {"options": LIDAR_OPTIONS}), cfg)
    clouds = [torch.from_numpy(parking_lot(np.random.default_rng(i))[0]) for i in range(2)]
    clouds[1] = clouds[1][clouds[1][:, 0] < 6.0]
    return model(concat_clouds(clouds), torch.arange(2) + 7, 3).loss.item()


def test_lidar__old_empty_weight_configs_give_the_same_loss():
    default = _lidar_loss({})  # type_weights [1.0, 0.25]
    assert _lidar_loss({"type_weights": [], "empty_weight": 0.25}) == default
    assert _lidar_loss({"empty_weight": 0.25}) == default
    assert _lidar_loss({"type_weights": [1.0, 0.25, 3.0]}) == default  # no type 2 in lidar
    zero = _lidar_loss({"empty_weight": 0.0})
    assert zero == _lidar_loss({"type_weights": [1.0, 0.0]}) and zero != default
    assert _lidar_loss({"empty_weight": 1.0}) == _lidar_loss({"type_weights": []}) != default


def test_type_weight_table__maps_and_checks():
    assert type_weight_table() is None and type_weight_table([1.0, 1.0], 1.0) is None
    assert type_weight_table([2.0], 0.5) == (2.0, 0.5)
    assert type_weight_table([1.0, 0.25, 0.5], 0.0) == (1.0, 0.0, 0.5)
    with pytest.raises(ValueError, match=r"objective.type_weights\[1\]"):
        type_weight_table([1.0, -1.0])
    with pytest.raises(ValueError, match="objective.empty_weight"):
        type_weight_table([], float("nan"))
    w = token_type_weights(torch.tensor([0, 1, 2, 5]), torch.tensor([1.0, 0.25, 4.0]))
    assert w.tolist() == [1.0, 0.25, 4.0, 1.0]


def _events(lengths: list[int], seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return pad_events([{"values": torch.randn(k, generator=g),
                        "times": torch.cumsum(torch.rand(k, generator=g) + 0.5, 0)} for k in lengths])


def _event_model(**objective) -> JEPA:
    plugin = ToyEventModality()
    cfg = build_config(plugin.default_config(), {"objective": objective})
    torch.manual_seed(0)
    return JEPA.build(plugin.build_tokenizer(cfg, {}), cfg)


def test_no_grid__per_position_target_standardization_refused():
    with pytest.raises(ValueError, match="standardize_targets .* no grid"):
        _event_model(standardize_targets=True)


def test_type_weights__weigh_each_target_token_by_its_type():
    model = _event_model(type_weights=[1.0, 0.25, 9.0])
    seen = []
    terms = model.objective.terms
    model.objective.terms = lambda *a, **k: (seen.append(a[2]), terms(*a, **k))[1]
    batch = _events([12, 9, 12, 7, 11, 12])
    out = model(batch, torch.arange(6), 0)
    tokens = model.encoder.tokenize(batch)
    b, m, kt = out.masks.target_idx.shape
    flat = out.masks.target_idx.reshape(b, -1)
    valid = out.masks.target_valid & torch.gather(tokens.valid, 1, flat).view(b, m, kt)
    types = torch.gather(tokens.types, 1, flat).view(b, m, kt)
    assert (types[valid] == 1).any() and (types[valid] == 0).any()
    want = valid.float() * torch.where(types == 1, 0.25, 1.0)
    assert torch.equal(seen[0], want)


def test_no_grid__masks_drawn_on_each_batch_length():
    model = _event_model()
    for lengths in ([3, 8], [12, 5, 4]):
        out = model(_events(lengths), torch.arange(len(lengths)), 0)
        assert int(out.masks.context_idx.max()) < max(lengths)
        for i, k in enumerate(lengths):  # only real events are context or target
            assert (out.masks.context_idx[i][out.masks.context_valid[i]] < k).all()
            assert (out.masks.target_idx[i][out.masks.target_valid[i]] < k).all()
        assert torch.isfinite(out.loss)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        model(_events([1, 1]), torch.arange(2), 0)


class _BadConditions(ToyTokenizer):
    condition_dim = 3

    def forward(self, batch) -> TokenBatch:
        tb = super().forward(batch)
        return TokenBatch(tb.tokens, tb.layout, conditions=torch.zeros(tb.batch_size + 1, 3))


def test_conditions__batch_size_mismatch_is_a_clear_error():
    cfg = build_config({"mask": {"name": "random_subset"},
                        "model": {**SMALL, "num_registers": 0}})
    model = JEPA.build(_BadConditions(6, 16), cfg)
    assert model.predictor.cond_dim == 3
    with pytest.raises(ValueError, match=r"conditions must be \[B, A\] or \[B, T, A\] with B = 4"):
        model(torch.randn(4, 6), torch.arange(4), 0)


def _train_conditioned(condition: str | None, steps: int = 100) -> list[float]:
    """Fit on tokens that only the condition explains; a frozen random teacher gives targets."""
    cfg = build_config({"mask": {"name": "random_subset", "context_ratio": 0.5, "target_ratio": 0.25},
                        "model": {**SMALL, "predictor_depth": 2}, "target": {"kind": "frozen"},
                        "objective": {"loss": "l2"}})
    torch.manual_seed(0)
    teacher = Encoder(ToyTokenizer(8, 16), cfg.model)
    with torch.no_grad():  # token values, not positions, dominate the teacher's features
        teacher.tokenizer.weight.mul_(30.0)
    torch.manual_seed(1)
    model = JEPA.build(ToyConditionedTokenizer(8, 16, condition), cfg, teacher=teacher)
    assert model.predictor.cond_dim == {"sample": 8, "frame": 1, None: 0}[condition]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    g = torch.Generator().manual_seed(2)
    losses = []
    for step in range(steps):
        out = model(torch.randn(32, 8, generator=g), torch.arange(32) + 32 * step, step)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        losses.append(out.loss.item())
    return losses


@pytest.fixture(scope="module")
def unconditioned_losses() -> list[float]:
    return _train_conditioned(None)


@pytest.mark.parametrize("condition", ["sample", "frame"])
def test_conditions__conditioned_predictor_beats_unconditioned(condition, unconditioned_losses):
    """Per-sample [B, A] and per-frame [B, T, A] conditions both reach the predictor."""
    late = slice(-10, None)
    with_cond = _train_conditioned(condition)
    assert np.mean(with_cond[late]) < 0.75 * np.mean(unconditioned_losses[late]), \
        (with_cond[late], unconditioned_losses[late])
