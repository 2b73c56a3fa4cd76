"""The plugin as the engine sees it: registry, default config, demo data."""

from __future__ import annotations

import json

import pytest
from torch.utils.data import DataLoader

from jepa_core.config import ConfigError, build_config
from jepa_core.modality import DataError
from jepa_core.registry import create_modality
from modalities.tabular import TabularModality, TabularOptions


def test_registry__finds_tabular():
    plugin = create_modality("tabular")
    assert isinstance(plugin, TabularModality) and plugin.name == "tabular"


def test_default_config__builds_a_config():
    cfg = build_config(TabularModality().default_config())
    assert cfg.mask.name == "random_subset"
    assert cfg.model.num_registers == 2


def test_options__typed_and_checked():
    plugin = TabularModality()
    cfg = build_config({"options": {"categorical_columns": "a,b", "clip": 3}})
    assert plugin.options(cfg) == TabularOptions(categorical_columns=["a", "b"], clip=3.0)
    with pytest.raises(ConfigError, match="unknown key"):
        plugin.options(build_config({"options": {"clipp": 3}}))


def test_demo_data__penguins_end_to_end():
    plugin = TabularModality()
    cfg = build_config(plugin.default_config())
    path = plugin.demo_data()
    assert path.endswith("penguins.csv")
    ds, state = plugin.load(path, cfg, None)
    json.dumps(state)
    assert len(ds) == 344 and len(ds.feature_names) == 8
    tok = plugin.build_tokenizer(cfg, state)
    out = tok(next(iter(DataLoader(ds, batch_size=16, collate_fn=plugin.collate))))
    assert out.tokens.shape == (16, 8, cfg.model.dim)
    assert out.tokens.isfinite().all()


def test_load__missing_file_through_plugin(tmp_path):
    plugin = TabularModality()
    with pytest.raises(DataError, match=r"gone\.parquet: file does not exist"):
        plugin.load(str(tmp_path / "gone.parquet"), build_config(), None)


def test_load__single_column_file(tmp_path):
    (tmp_path / "one.csv").write_text("x\n1.5\n2.5\n3.5\n")
    with pytest.raises(DataError, match=r"one\.csv: 1 usable feature column.*expected at least 2"):
        TabularModality().load(str(tmp_path / "one.csv"), build_config(), None)
