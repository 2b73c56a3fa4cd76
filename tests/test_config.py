from pathlib import Path

import pytest

from jepa_core.config import (
    Config,
    ConfigError,
    build_config,
    load_yaml,
    parse_overrides,
    save_config,
    to_dict,
    upgrade_legacy,
)


def test_build_config__layers_merge_in_order():
    cfg = build_config({"model": {"dim": 32, "depth": 2}}, {"model": {"depth": 3}})
    assert (cfg.model.dim, cfg.model.depth) == (32, 3)
    assert cfg.model.heads == Config().model.heads


def test_parse_overrides__yaml_values():
    got = parse_overrides(["optim.lr=3e-4", "mask.target_scale=[0.1, 0.2]", "optim.steps=null",
                           "logging.progress=false"])
    assert got == {"optim": {"lr": 3e-4, "steps": None}, "mask": {"target_scale": [0.1, 0.2]},
                   "logging": {"progress": False}}


def test_build_config__unknown_key_lists_valid_ones():
    with pytest.raises(ConfigError, match="unknown key.*'lrr'.*valid keys"):
        build_config({"optim": {"lrr": 1.0}})


def test_build_config__wrong_type():
    with pytest.raises(ConfigError, match="optim.epochs: expected an integer"):
        build_config({"optim": {"epochs": "many"}})
    with pytest.raises(ConfigError, match="mask.target_scale: expected 2 values"):
        build_config({"mask": {"target_scale": [0.1]}})


@pytest.mark.parametrize("raw", [",", "|", ">", "[x", ";"])
def test_parse_overrides__non_yaml_values_are_plain_strings(raw):
    assert parse_overrides([f"options.delimiter={raw}"]) == {"options": {"delimiter": raw}}


def test_parse_overrides__needs_equals():
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["optim.lr"])


def test_save_config__round_trips(tmp_path):
    cfg = build_config({"modality": "toy", "mask": {"target_scale": [0.1, 0.3]}, "options": {"a": 1}})
    save_config(cfg, tmp_path / "c.yaml")
    assert build_config(load_yaml(tmp_path / "c.yaml")) == cfg


def test_load_yaml__bad_file(tmp_path):
    (tmp_path / "bad.yaml").write_text("model: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "missing.yaml")


# -- component sections --------------------------------------------------------------------

OLD_RUNS = Path(__file__).parent / "data" / "old_runs"


def test_build_config__mask_section_is_the_chosen_maskers_schema():
    cfg = build_config({"mask": {"name": "random_subset", "target_ratio": 0.3}})
    assert type(cfg.mask).__name__ == "RandomSubsetConfig"
    assert (cfg.mask.name, cfg.mask.context_ratio, cfg.mask.target_ratio) == ("random_subset", 0.5, 0.3)
    assert type(build_config().mask).__name__ == "MultiBlockConfig"


def test_build_config__field_of_another_masker():
    with pytest.raises(ConfigError, match=r"config\.mask\.context_ratio is not a field of masker "
                                          r"'multiblock' \(it is one of: bev, random_subset\); "
                                          r"its fields are \['name', 'num_targets'"):
        build_config({"mask": {"name": "multiblock", "context_ratio": 0.5}})
    with pytest.raises(ConfigError, match=r"mask\.target_ratio: expected a number"):
        build_config({"mask": {"name": "bev", "target_ratio": "half"}})


def test_build_config__unknown_masker_lists_registered():
    with pytest.raises(ConfigError, match=r"config\.mask\.name: unknown masker 'nope' \(mask\.name\); "
                                          r"registered: bev, (.+, )?multiblock"):
        build_config({"mask": {"name": "nope"}})


@pytest.mark.parametrize("order", [["mask.name=multiblock", "mask.num_targets=2"],
                                   ["mask.num_targets=2", "mask.name=multiblock"]])
def test_build_config__set_name_then_fields_in_any_order(order):
    plugin_defaults = {"mask": {"name": "random_subset", "context_ratio": 0.5, "target_ratio": 0.3}}
    cfg = build_config(plugin_defaults, parse_overrides(order))
    assert cfg.mask.name == "multiblock" and cfg.mask.num_targets == 2


def test_build_config__new_name_keeps_shared_fields_only():
    plugin_defaults = {"mask": {"name": "random_subset", "context_ratio": 0.4, "target_ratio": 0.3}}
    bev = build_config(plugin_defaults, {"mask": {"name": "bev"}}).mask
    assert (bev.context_ratio, bev.target_ratio) == (0.4, 0.3)
    assert build_config(plugin_defaults, {"mask": {"name": "temporal"}}).mask.frames == 1
    # a field given in the same layer as the new name is checked against the new masker
    with pytest.raises(ConfigError, match="'context_ratio' is not a field|context_ratio is not a field"):
        build_config(plugin_defaults, {"mask": {"name": "multiblock", "context_ratio": 0.5}})


def test_build_config__method_section():
    assert build_config().method.name == "masked"
    with pytest.raises(ConfigError, match=r"unknown method 'world'"):
        build_config({"method": {"name": "world"}})


@pytest.mark.parametrize("modality, mask, options", [
    ("tabular", {"name": "random_subset", "context_ratio": 0.5, "target_ratio": 0.3},
     {"ignore_columns": ["island"]}),
    ("lidar", {"name": "bev", "context_ratio": 0.5, "target_ratio": 0.5}, {}),
])
def test_build_config__configs_saved_by_0_1_still_load(modality, mask, options):
    cfg = build_config(load_yaml(OLD_RUNS / modality / "config.yaml"))
    assert cfg.modality == modality
    assert to_dict(cfg.mask) == mask
    assert cfg.options == options
    assert not hasattr(cfg.data, "ignore_columns")



def test_save_config__upgraded_0_1_config_round_trips(tmp_path):
    cfg = build_config(load_yaml(OLD_RUNS / "tabular" / "config.yaml"))
    save_config(cfg, tmp_path / "c.yaml")
    assert build_config(load_yaml(tmp_path / "c.yaml")) == cfg


def test_build_config__0_1_temporal_spelling_still_loads():
    cfg = build_config({"mask": {"name": "temporal", "temporal_frames": 2, "temporal_span": "random"}})
    assert (cfg.mask.frames, cfg.mask.span) == (2, "random")


def test_upgrade_legacy__ignore_columns_moves_to_options():
    assert upgrade_legacy({"data": {"ignore_columns": ["id"]}, "options": {"clip": 3.0}}) == \
        {"data": {}, "options": {"ignore_columns": ["id"], "clip": 3.0}}
    assert upgrade_legacy({"data": {"ignore_columns": []}}) == {"data": {}}


@pytest.mark.parametrize("modality, masker", [("tabular", "RandomSubsetMasker"), ("lidar", "BevMasker")])
def test_load_run__0_1_run_dirs_rebuild_their_model(modality, masker):
    from jepa_core.registry import create_modality
    from jepa_core.run import RunDir, build_model

    cfg, state = RunDir(OLD_RUNS / modality).read()
    model = build_model(cfg, create_modality(cfg.modality), state)
    assert type(model.masker).__name__ == masker
