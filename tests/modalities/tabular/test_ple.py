"""Piecewise-linear encoding: the encoding, quantile edges in the schema, the tokenizer, bad options."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from jepa_core.config import build_config
from jepa_core.modality import DataError
from modalities.tabular import TabularModality, TabularTokenizer
from modalities.tabular.options import TabularOptions
from modalities.tabular.ple import edge_table, fit_ple_edges, ple_encode
from modalities.tabular.schema import fit_schema
from tests.helpers import tiny_table


def test_ple_encode__matches_hand_computed_reference():
    # Edges 0, 1, 3: bins [0, 1] and [1, 3]; 1 below the value, the fraction inside, 0 above.
    lower, width, valid = edge_table([[0.0, 1.0, 3.0]], 2)
    x = torch.tensor([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0]).unsqueeze(1)
    expected = torch.tensor([[0, 0], [0, 0], [0.5, 0], [1, 0], [1, 0.5], [1, 1], [1, 1]])
    assert torch.equal(ple_encode(x, lower, width, valid)[:, 0], expected)


def test_ple_encode__padding_bins_of_a_feature_with_fewer_edges_are_zero():
    lower, width, valid = edge_table([[0.0, 2.0], [5.0], [0.0, 1.0, 2.0, 3.0]], 3)
    assert valid.tolist() == [[True, False, False], [False, False, False], [True, True, True]]
    out = ple_encode(torch.tensor([[1.0, 9.0, 2.5]]), lower, width, valid)[0]
    assert torch.equal(out, torch.tensor([[0.5, 0, 0], [0, 0, 0], [1, 1, 0.5]]))


def test_edge_table__too_many_or_unsorted_edges():
    with pytest.raises(ValueError, match="feature 0 has 3 PLE bins; expected at most 2"):
        edge_table([[0.0, 1.0, 2.0, 3.0]], 2)
    with pytest.raises(ValueError, match="feature 1: PLE edges must increase"):
        edge_table([[0.0, 1.0], [2.0, 1.0]], 2)


def test_fit_ple_edges__quantiles_with_repeats_merged():
    assert fit_ple_edges(np.arange(9.0), 4) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert fit_ple_edges(np.array([3.0, 3.0, 3.0, 3.0, 3.0, 7.0]), 4) == [3.0, 7.0]
    assert fit_ple_edges(np.array([2.0, 2.0]), 4) == [2.0]
    assert fit_ple_edges(np.array([]), 4) == []


def test_fit_schema__ple_edges_on_standardized_values_missing_ignored():
    df = tiny_table(rows=40)
    state = fit_schema(df, "t.csv", TabularOptions(numeric_embedding="ple", ple_bins=4))
    assert state["ple_bins"] == 4
    for col in state["numeric"]:
        v = df[col["name"]].to_numpy(dtype=float)
        z = (v[~np.isnan(v)] - col["median"]) / col["scale"]
        assert col["ple_edges"] == pytest.approx(np.quantile(z, [0, 0.25, 0.5, 0.75, 1]).tolist())
    plain = fit_schema(df, "t.csv", TabularOptions())
    assert "ple_bins" not in plain and all("ple_edges" not in c for c in plain["numeric"])


def test_tokenizer__ple_is_a_linear_map_of_the_encoding_missing_uses_missing_embedding():
    tok = TabularTokenizer(2, [3], dim=4, numeric_embedding="ple", ple_edges=[[0.0, 1.0, 3.0], [-1.0, 1.0]],
                           ple_bins=2)
    assert not hasattr(tok, "num_weight")
    batch = {"num": torch.tensor([[2.0, 0.0], [0.0, 7.0]]),
             "num_missing": torch.tensor([[False, False], [False, True]]),
             "cat": torch.full((2, 1), 2, dtype=torch.long)}
    out = tok(batch).tokens
    expected = torch.tensor([1.0, 0.5]) @ tok.ple_weight[0] + tok.ple_bias[0] + tok.feature_embedding[0]
    assert torch.allclose(out[0, 0], expected, atol=1e-6)
    expected = torch.tensor([0.5, 0.0]) @ tok.ple_weight[1] + tok.ple_bias[1] + tok.feature_embedding[1]
    assert torch.allclose(out[0, 1], expected, atol=1e-6)
    assert torch.allclose(out[1, 1], tok.num_missing[1] + tok.feature_embedding[1])
    out.square().sum().backward()
    assert tok.ple_weight.grad[0].abs().sum() > 0 and tok.num_missing.grad[1].abs().sum() > 0


def test_tokenizer__linear_ple_is_the_sum_of_both():
    tok = TabularTokenizer(1, [], dim=4, numeric_embedding="linear_ple", ple_edges=[[0.0, 1.0, 3.0]], ple_bins=2)
    out = tok({"num": torch.tensor([[0.5]]), "num_missing": torch.zeros(1, 1, dtype=torch.bool)}).tokens[0, 0]
    linear = 0.5 * tok.num_weight[0] + tok.num_bias[0]
    ple = torch.tensor([0.5, 0.0]) @ tok.ple_weight[0] + tok.ple_bias[0]
    assert torch.allclose(out, linear + ple + tok.feature_embedding[0], atol=1e-6)


def test_tokenizer__ple_needs_edges_for_every_numeric_feature():
    with pytest.raises(ValueError, match="needs bin edges for each of the 2 numeric features"):
        TabularTokenizer(2, [], dim=4, numeric_embedding="ple", ple_edges=[[0.0, 1.0]])


def test_ple__edges_saved_with_the_run_and_reused_by_embedding(tmp_path):
    from jepa_core.cli import main
    from jepa_core.run import build_model, load_run

    tiny_table(rows=40).to_csv(tmp_path / "t.csv", index=False)
    run_dir = tmp_path / "run"
    code = main(["pretrain", "tabular", "--data", str(tmp_path / "t.csv"), "--out", str(run_dir),
                 "--steps", "2", "--batch-size", "16", "--set", "logging.progress=false",
                 "--set", "options.numeric_embedding=ple",
                 "--set", "options.ple_bins=4"])
    assert code == 0
    saved = json.loads((run_dir / "modality_state.json").read_text())
    edges = [c["ple_edges"] for c in saved["numeric"]]
    assert saved["ple_bins"] == 4 and all(len(e) == 5 for e in edges)
    run = load_run(run_dir)
    lower, width, _ = edge_table(edges, 4)
    toks = [m for m in run.model.modules() if isinstance(m, TabularTokenizer)]
    assert toks and all(torch.equal(t.ple_lower, lower) and torch.equal(t.ple_width, width) for t in toks)
    # Another file (shifted values) is encoded with the saved edges: nothing is refitted.
    shifted = tiny_table(rows=40, seed=1)
    shifted["height"] += 100.0
    shifted.to_csv(tmp_path / "other.csv", index=False)
    ds, state = run.plugin.load(str(tmp_path / "other.csv"), run.cfg, run.state)
    assert state == saved
    twin = build_model(run.cfg, run.plugin, run.state)
    batch = default_collate([ds[i] for i in range(4)])
    assert torch.isfinite(next(m for m in twin.modules() if isinstance(m, TabularTokenizer))(batch).tokens).all()


def test_ple__bad_options_and_a_schema_without_edges_raise_clear_errors(tmp_path):
    tiny_table().to_csv(tmp_path / "t.csv", index=False)
    plugin = TabularModality()
    linear_cfg = build_config(plugin.default_config(), {})
    _, linear_state = plugin.load(str(tmp_path / "t.csv"), linear_cfg, None)
    ple_cfg = build_config(plugin.default_config(), {"options": {"numeric_embedding": "ple", "ple_bins": 4}})
    with pytest.raises(DataError, match="needs the schema's bin edges, but the saved schema was fitted "
                                        "without PLE bin edges"):
        plugin.build_tokenizer(ple_cfg, linear_state)
    _, ple_state = plugin.load(str(tmp_path / "t.csv"), ple_cfg, None)
    other_bins = build_config(plugin.default_config(), {"options": {"numeric_embedding": "ple", "ple_bins": 8}})
    with pytest.raises(DataError, match="options.ple_bins=8 needs .* fitted with options.ple_bins=4"):
        plugin.build_tokenizer(other_bins, ple_state)
    for bins in (0, -3):
        bad = build_config(plugin.default_config(), {"options": {"numeric_embedding": "ple", "ple_bins": bins}})
        with pytest.raises(DataError, match=f"options.ple_bins must be at least 1, got {bins}"):
            plugin.build_tokenizer(bad, ple_state)
        with pytest.raises(DataError, match=f"options.ple_bins must be at least 1, got {bins}"):
            plugin.load(str(tmp_path / "t.csv"), bad, None)


def test_tokenizer__ple_relu_is_the_ple_token_through_a_relu():
    tok = TabularTokenizer(1, [], dim=8, numeric_embedding="ple_relu", ple_edges=[[0.0, 1.0, 3.0]], ple_bins=2)
    assert not hasattr(tok, "num_weight")
    out = tok({"num": torch.tensor([[2.0]]), "num_missing": torch.zeros(1, 1, dtype=torch.bool)}).tokens[0, 0]
    ple = torch.tensor([1.0, 0.5]) @ tok.ple_weight[0] + tok.ple_bias[0]
    assert (ple < 0).any()
    assert torch.allclose(out, torch.relu(ple) + tok.feature_embedding[0], atol=1e-6)
