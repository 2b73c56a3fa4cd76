"""The per-feature tokenizer: shapes, missing embeddings, unknown rows, gradients."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import default_collate

from jepa_core.config import build_config
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
