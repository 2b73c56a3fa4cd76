"""The per-feature tokenizer: shapes, missing embeddings, unknown rows, gradients."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import default_collate

from jepa_core.config import build_config
from jepa_core.modality import DataError
from modalities.tabular import TabularModality, TabularTokenizer
from modalities.tabular.transform import MISSING_INDEX, UNKNOWN_INDEX
from tests.helpers import tiny_table


def _batch(b: int, fn: int, fc: int) -> dict:
    return {"num": torch.randn(b, fn), "num_missing": torch.zeros(b, fn, dtype=torch.bool),
            "cat": torch.full((b, fc), 2, dtype=torch.long)}


def test_tokenizer__shapes_from_plugin(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    plugin = TabularModality()
    cfg = build_config(plugin.default_config(), {"model": {"dim": 16}})
    ds, state = plugin.load(str(tmp_path / "t.csv"), cfg, None)
    tok = plugin.build_tokenizer(cfg, state)
    out = tok(default_collate([ds[i] for i in range(5)]))
    assert out.tokens.shape == (5, 5, 16)
    assert out.layout.grid == (5,) and tok.layout.grid == (5,) and tok.dim == 16
    assert out.valid.shape == (5, 5) and out.valid.all()


def test_tokenizer__missing_numeric_uses_missing_embedding():
    tok = TabularTokenizer(2, [4], dim=8)
    batch = _batch(3, 2, 1)
    batch["num_missing"][1, 0] = True
    out = tok(batch).tokens
    expected = tok.num_missing[0] + tok.feature_embedding[0]
    assert torch.allclose(out[1, 0], expected)
    batch["num"][1, 0] = 123.0  # the value under a missing flag is never read
    assert torch.allclose(tok(batch).tokens[1, 0], expected)
    assert not torch.allclose(out[0, 0], expected)


def test_tokenizer__categorical_rows_per_column():
    tok = TabularTokenizer(1, [3, 5], dim=8)
    batch = _batch(2, 1, 2)
    batch["cat"][0] = torch.tensor([MISSING_INDEX, UNKNOWN_INDEX])
    out = tok(batch).tokens
    table = tok.cat_embedding.weight
    assert torch.allclose(out[0, 1], table[0 + MISSING_INDEX] + tok.feature_embedding[1])
    assert torch.allclose(out[0, 2], table[3 + UNKNOWN_INDEX] + tok.feature_embedding[2])


def test_tokenizer__numeric_is_affine_per_feature():
    tok = TabularTokenizer(2, [], dim=4)
    batch = _batch(1, 2, 0)
    batch["num"] = torch.tensor([[2.0, -1.0]])
    out = tok(batch).tokens[0]
    assert torch.allclose(out[1], -1.0 * tok.num_weight[1] + tok.num_bias[1]
                          + tok.feature_embedding[1])


@pytest.mark.parametrize("fn,fc", [(3, 0), (0, 3), (2, 2)])
def test_tokenizer__gradients_reach_every_used_parameter(fn, fc):
    tok = TabularTokenizer(fn, [4] * fc, dim=8)
    batch = _batch(4, fn, fc)
    if fn:
        batch["num_missing"][0] = True
    tok(batch).tokens.square().sum().backward()
    assert tok.feature_embedding.grad is not None
    if fn:
        assert tok.num_weight.grad.abs().sum() > 0 and tok.num_missing.grad.abs().sum() > 0
    if fc:
        assert tok.cat_embedding.weight.grad.abs().sum() > 0


def test_tokenizer__no_features():
    with pytest.raises(ValueError, match="at least one feature"):
        TabularTokenizer(0, [], dim=8)


def test_tokenizer__periodic_numeric_is_relu_of_sin_cos_map():
    tok = TabularTokenizer(2, [], dim=4, numeric_embedding="periodic", frequencies=3, sigma=2.0)
    assert not hasattr(tok, "num_weight")  # no unused parameters
    x = torch.tensor([[0.5, -1.0]])
    out = tok({"num": x, "num_missing": torch.zeros(1, 2, dtype=torch.bool)}).tokens[0]
    angle = 2 * torch.pi * x[0, 1] * tok.frequencies[1]
    features = torch.cat([torch.sin(angle), torch.cos(angle)])
    expected = torch.relu(features @ tok.periodic_weight[1] + tok.periodic_bias[1]) + tok.feature_embedding[1]
    assert torch.allclose(out[1], expected, atol=1e-6)


def test_tokenizer__periodic_separates_values_a_linear_map_keeps_in_line():
    # Three codes stored as numbers: a linear token of the middle one is the mean of the
    # other two; a periodic token in general is not.
    codes = torch.tensor([[0.0], [0.5], [1.0]])
    batch = {"num": codes, "num_missing": torch.zeros(3, 1, dtype=torch.bool)}
    torch.manual_seed(0)
    linear = TabularTokenizer(1, [], dim=8)(batch).tokens[:, 0]
    periodic = TabularTokenizer(1, [], dim=8, numeric_embedding="periodic", sigma=3.0)(batch).tokens[:, 0]
    assert torch.allclose(linear[1], (linear[0] + linear[2]) / 2, atol=1e-6)
    assert not torch.allclose(periodic[1], (periodic[0] + periodic[2]) / 2, atol=1e-2)


def test_tokenizer__periodic_gradients_reach_frequencies():
    tok = TabularTokenizer(2, [4], dim=8, numeric_embedding="periodic")
    tok(_batch(4, 2, 1)).tokens.square().sum().backward()
    assert tok.frequencies.grad.abs().sum() > 0 and tok.periodic_weight.grad.abs().sum() > 0


def test_tokenizer__numeric_embedding_option_from_plugin(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    plugin = TabularModality()
    cfg = build_config(plugin.default_config(), {"model": {"dim": 16},
                                                 "options": {"numeric_embedding": "periodic",
                                                             "periodic_frequencies": 4}})
    ds, state = plugin.load(str(tmp_path / "t.csv"), cfg, None)
    tok = plugin.build_tokenizer(cfg, state)
    assert tok.numeric_embedding == "periodic" and tuple(tok.frequencies.shape) == (len(state["numeric"]), 4)
    assert tok(default_collate([ds[i] for i in range(5)])).tokens.shape == (5, 5, 16)
    bad = build_config(plugin.default_config(), {"options": {"numeric_embedding": "fourier"}})
    with pytest.raises(DataError, match="options.numeric_embedding must be one of.*'fourier'"):
        plugin.build_tokenizer(bad, state)
    bad = build_config(plugin.default_config(), {"options": {"periodic_sigma": 0}})
    with pytest.raises(DataError, match="options.periodic_sigma must be positive"):
        plugin.build_tokenizer(bad, state)


def test_tokenizer__linear_periodic_is_the_sum_of_both():
    tok = TabularTokenizer(1, [], dim=4, numeric_embedding="linear_periodic", frequencies=2)
    x = torch.tensor([[0.7]])
    out = tok({"num": x, "num_missing": torch.zeros(1, 1, dtype=torch.bool)}).tokens[0, 0]
    angle = 2 * torch.pi * x[0, 0] * tok.frequencies[0]
    periodic = torch.relu(torch.cat([torch.sin(angle), torch.cos(angle)]) @ tok.periodic_weight[0]
                          + tok.periodic_bias[0])
    linear = x[0, 0] * tok.num_weight[0] + tok.num_bias[0]
    assert torch.allclose(out, linear + periodic + tok.feature_embedding[0], atol=1e-6)
