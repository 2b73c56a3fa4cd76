"""The ``tabular_value`` method: the masked loss plus each column's value read off its token."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import default_collate

from jepa_core.config import ConfigError, build_config
from jepa_core.method import JEPA
from jepa_core.registry import get_registry
from modalities.tabular import TabularModality
from modalities.tabular.value_target import ColumnValueHead, ValueTargetJEPA, batch_bins
from tests.helpers import tiny_table

SMALL = {"dim": 16, "depth": 1, "heads": 2}
PREDICTOR = {"dim": 16, "depth": 1, "heads": 2}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("value_target") / "t.csv"
    tiny_table(rows=40).to_csv(path, index=False)
    return str(path)


def _model(table: str, method: dict, seed: int = 0):
    """``(model, batch)``: the registered method of ``method`` on 16 rows, init seed ``seed``."""
    plugin = TabularModality()
    cfg = build_config(plugin.default_config(), {"model": SMALL, "predictor": PREDICTOR, "method": method})
    dataset, state = plugin.load(table, cfg, None)
    torch.manual_seed(seed)
    model = get_registry("method").get(cfg.method.name).build(plugin.build_tokenizer(cfg, state), cfg)
    return model, default_collate([dataset[i] for i in range(16)])


def test_column_value_head__mse_on_numerics_cross_entropy_over_the_columns_own_table():
    head = ColumnValueHead(3, 2, [3, 4])
    torch.manual_seed(0)
    for p in head.parameters():
        torch.nn.init.normal_(p)
    h = torch.randn(2, 4, 3)
    position = torch.tensor([[0, 1, 2, 3], [3, 0, 1, 1]])
    weight = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0]])
    batch = {"num": torch.tensor([[0.5, -1.0], [2.0, 0.0]]),
             "num_missing": torch.tensor([[False, True], [False, False]]),
             "cat": torch.tensor([[2, 0], [1, 3]])}
    losses = []
    for b in range(2):
        for k in range(4):
            col = int(position[b, k])
            if weight[b, k] == 0 or (col < 2 and bool(batch["num_missing"][b, col])):
                continue
            if col < 2:
                pred = h[b, k] @ head.num_weight[col] + head.num_bias[col]
                losses.append((pred - batch["num"][b, col]) ** 2)
            else:
                lo = [0, 3][col - 2]
                size = [3, 4][col - 2]
                logits = (head.cat.weight[lo:lo + size] @ h[b, k]) + head.cat.bias[lo:lo + size]
                losses.append(F.cross_entropy(logits[None], batch["cat"][b, col - 2][None]))
    # scored: (0,0) num, (0,1) missing -> skipped, (0,2) cat, (0,3) cat, (1,0) cat, (1,1) num, (1,3) num
    assert len(losses) == 6
    expected = torch.stack(losses).mean()
    assert torch.allclose(head.loss(h, position, weight, batch), expected, atol=1e-5)


def test_value_target__adds_the_value_term_to_the_masked_loss(table):
    masked, batch = _model(table, {"name": "masked"})
    model, _ = _model(table, {"name": "tabular_value", "weight": 0.5})
    assert isinstance(model, ValueTargetJEPA) and type(masked) is JEPA and model.visible_head is None
    ids = torch.arange(16)
    base = masked(batch, ids, 3)
    out = model(batch, ids, 3)
    # same init seed, the head is built after the masked modules: the masked loss is the same
    assert torch.allclose(out.parts["latent"], base.parts["latent"])
    assert torch.allclose(out.loss, base.loss + 0.5 * out.parts["value"])
    s = model.masked_step(batch, ids, 3)
    b, m, kt = s.weight.shape
    again = model.value_head.loss(s.pred.reshape(b, m * kt, -1), s.masks.target_idx.reshape(b, m * kt),
                                  s.weight.reshape(b, m * kt), batch)
    assert torch.allclose(out.parts["value"], again)
    out.loss.backward()
    assert model.value_head.cat.weight.grad.abs().sum() > 0
    assert model.value_head.num_weight.grad.abs().sum() > 0


def test_value_target__visible_term_reads_the_context_encoder(table):
    masked, batch = _model(table, {"name": "masked"})
    model, _ = _model(table, {"name": "tabular_value", "weight": 0.0, "visible_weight": 2.0})
    assert model.value_head is None
    ids = torch.arange(16)
    out = model(batch, ids, 1)
    assert "value" not in out.parts
    assert torch.allclose(out.loss, masked(batch, ids, 1).loss + 2.0 * out.parts["visible_value"])
    s = model.masked_step(batch, ids, 1)
    again = model.visible_head.loss(s.z_ctx, s.masks.context_idx, s.ctx_keep.float(), batch)
    assert torch.allclose(out.parts["visible_value"], again)


def test_value_target__training_lowers_the_value_loss(table):
    model, batch = _model(table, {"name": "tabular_value", "weight": 1.0})
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    ids = torch.arange(16)
    first = None
    for step in range(30):
        out = model(batch, ids, 0)  # the same masks each step
        first = float(out.parts["value"]) if first is None else first
        opt.zero_grad()
        out.loss.backward()
        opt.step()
    assert float(model(batch, ids, 0).parts["value"]) < 0.5 * first


def test_value_target__negative_weight_is_a_config_error(table):
    with pytest.raises(ConfigError, match="method.visible_weight must be >= 0"):
        _model(table, {"name": "tabular_value", "visible_weight": -1.0})


def test_value_target__pretrain_embed_and_probe_from_the_cli(table, tmp_path, capsys):
    from jepa_core.cli import main

    run = tmp_path / "run"
    code = main(["pretrain", "tabular", "--data", table, "--out", str(run), "--steps", "3",
                 "--batch-size", "16", "--ignore-columns", "level", "--set", "logging.progress=false",
                 "--set", "method.name=tabular_value", "--set", "method.visible_weight=0.5"])
    assert code == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("value" in r and "visible_value" in r for r in rows)
    capsys.readouterr()
    assert main(["probe", str(run), "--data", table, "--label", "level", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0.0 <= result["pretrained"] <= 1.0 and 0.0 <= result["random_init"] <= 1.0


def test_batch_bins__equal_count_bins_per_column_ties_share_missing_is_zero():
    num = torch.tensor([[0.0, 5.0], [1.0, 5.0], [2.0, 5.0], [3.0, 9.0], [4.0, 1.0], [5.0, 0.0]])
    missing = torch.zeros_like(num, dtype=torch.bool)
    missing[5, 1] = True
    bins = batch_bins(num, missing, 3)
    assert bins[:, 0].tolist() == [0, 0, 1, 1, 2, 2]
    # column 1 observed 5, 5, 5, 9, 1: edges at its 1/3 and 2/3 quantiles (5, 5)
    assert bins[:, 1].tolist() == [0, 0, 0, 2, 0, 0]


def test_column_value_head__bins_are_classified_per_numeric_column():
    head = ColumnValueHead(3, 1, [], bins=2)
    torch.manual_seed(0)
    for p in head.parameters():
        torch.nn.init.normal_(p)
    h = torch.randn(4, 1, 3)
    batch = {"num": torch.tensor([[0.0], [1.0], [2.0], [3.0]]), "num_missing": torch.zeros(4, 1, dtype=torch.bool),
             "cat": torch.zeros(4, 0, dtype=torch.long)}
    logits = torch.einsum("bd,dt->bt", h[:, 0], head.num_weight[0]) + head.num_bias[0]
    expected = F.cross_entropy(logits, torch.tensor([0, 0, 1, 1]))
    position = torch.zeros(4, 1, dtype=torch.long)
    assert torch.allclose(head.loss(h, position, torch.ones(4, 1), batch), expected, atol=1e-5)


def test_value_target__numeric_bins_from_the_cli_config(table):
    model, batch = _model(table, {"name": "tabular_value", "numeric_target": "bins", "bins": 4})
    assert model.value_head.bins == 4
    out = model(batch, torch.arange(16), 2)
    assert torch.isfinite(out.parts["value"])
    with pytest.raises(ConfigError, match="method.numeric_target must be 'value' or 'bins'"):
        _model(table, {"name": "tabular_value", "numeric_target": "quantile"})
