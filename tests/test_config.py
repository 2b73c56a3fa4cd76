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
    (tmp_path / "bad.yaml").write_text("optim: {lr: 0.1}\nmodel: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML") as err:
        load_yaml(tmp_path / "bad.yaml")
    message = str(err.value)  # one line (the CLI's one error line), with where it broke
    assert "\n" not in message and message.startswith(f"config file {tmp_path / 'bad.yaml'}, line 3, column 1: ")
    assert "(while parsing a flow sequence at line 2, column 8)" in message
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
    with pytest.raises(ConfigError, match=r"unknown method 'nosuch'"):
        build_config({"method": {"name": "nosuch"}})


@pytest.mark.parametrize("modality, mask, options", [
    ("tabular", {"name": "random_subset", "context_ratio": 0.5, "target_ratio": 0.3},
     {"ignore_columns": ["island"]}),
    ("lidar", {"name": "bev", "context_ratio": 0.5, "target_ratio": 0.5, "block": 1}, {}),
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


# -- target, predictor and pooling sections ------------------------------------------------

def test_build_config__target_section_is_the_chosen_providers_schema():
    from jepa_core.config import TargetConfig
    from jepa_core.targets import EmaTargetConfig, FrozenTargetConfig

    assert build_config().target == EmaTargetConfig(kind="ema", momentum=(0.996, 1.0))
    frozen = build_config(parse_overrides(["target.kind=frozen", "target.frozen_hf=some/ckpt"])).target
    assert frozen == FrozenTargetConfig(kind="frozen", frozen_run=None, frozen_hf="some/ckpt")
    assert build_config({"target": {"kind": "none"}}).target == TargetConfig(kind="none")
    assert to_dict(build_config({"target": {"kind": "none"}}).target) == {"kind": "none"}


@pytest.mark.parametrize("layer, message", [
    ({"target": {"kind": "ema", "frozen_run": "r"}},
     r"config\.target\.frozen_run is not a field of target 'ema' \(it is one of: frozen\); "
     r"its fields are \['kind', 'momentum'\]"),
    ({"target": {"kind": "none", "momentum": [0.9, 1.0]}},
     r"config\.target\.momentum is not a field of target 'none' \(it is one of: ema\); "
     r"its fields are \['kind'\]"),
    ({"target": {"kind": "teacher"}},
     r"config\.target\.kind: unknown target 'teacher' \(target\.kind\); registered: ema, frozen, none"),
    ({"target": {"kind": "ema", "momentum": [0.9]}}, r"target\.momentum: expected 2 values"),
    ({"predictor": {"name": "masked", "width": 8}},
     r"config\.predictor\.width is not a field of predictor 'masked'; "
     r"its fields are \['name', 'dim', 'depth', 'heads'\]"),
    ({"predictor": {"name": "nope"}},
     r"config\.predictor\.name: unknown predictor 'nope' \(predictor\.name\); registered: (.+, )?masked"),
    ({"predictor": {"dim": "wide"}}, r"predictor\.dim: expected an integer"),
    ({"pooling": {"name": "mean", "k": 3}},
     r"config\.pooling\.k is not a field of pooling 'mean'; its fields are \['name'\]"),
    ({"pooling": {"name": "max"}},
     r"config\.pooling\.name: unknown pooling 'max' \(pooling\.name\); registered: axis_mean, concat, mean, mean_std, registers, ui_segments"),
    ({"predictor": {"dim": 30, "heads": 4}}, r"predictor\.dim 30 does not split into predictor\.heads 4"),
    ({"predictor": {"depth": 0}}, r"predictor\.depth must be at least 1, got 0"),
])
def test_build_config__target_predictor_pooling_errors(layer, message):
    with pytest.raises(ConfigError, match=message):
        build_config(layer)


def test_build_config__new_target_kind_drops_the_earlier_providers_fields():
    plugin_defaults = {"target": {"momentum": [0.98, 1.0]}}  # as tabular's default_config
    assert build_config(plugin_defaults).target.momentum == (0.98, 1.0)
    cfg = build_config(plugin_defaults, parse_overrides(["target.kind=frozen", "target.frozen_run=r"]))
    assert (cfg.target.kind, cfg.target.frozen_run) == ("frozen", "r")
    assert build_config(plugin_defaults, parse_overrides(["target.kind=none"])).target.kind == "none"


LEGACY_MODEL = {"dim": 32, "heads": 2, "predictor": "masked", "predictor_dim": 16,
                "predictor_depth": 3, "predictor_heads": 2, "pooling": "concat"}


def _legacy_layer(how, tmp_path):
    if how == "yaml":
        (tmp_path / "c.yaml").write_text("model:\n" + "".join(f"  {k}: {v}\n" for k, v in LEGACY_MODEL.items()))
        return load_yaml(tmp_path / "c.yaml")
    if how == "set":
        return parse_overrides([f"model.{k}={v}" for k, v in LEGACY_MODEL.items()])
    return {"model": dict(LEGACY_MODEL)}  # a plugin's default_config()


@pytest.mark.parametrize("how", ["yaml", "set", "default_config"])
def test_build_config__old_model_keys_move_to_their_sections(how, tmp_path):
    cfg = build_config(_legacy_layer(how, tmp_path))
    assert to_dict(cfg.predictor) == {"name": "masked", "dim": 16, "depth": 3, "heads": 2}
    assert to_dict(cfg.pooling) == {"name": "concat"}
    assert (cfg.model.dim, cfg.model.heads) == (32, 2)
    assert "predictor_dim" not in to_dict(cfg.model) and "pooling" not in to_dict(cfg.model)


def test_build_config__old_and_new_spellings_layer_in_order():
    plugin = {"model": {"predictor_dim": 32, "predictor_depth": 1, "pooling": "concat"}}
    cfg = build_config(plugin, parse_overrides(["predictor.depth=3", "model.predictor_heads=8"]))
    assert (cfg.predictor.dim, cfg.predictor.depth, cfg.predictor.heads) == (32, 3, 8)
    cfg = build_config(plugin, parse_overrides(["pooling.name=mean"]))
    assert cfg.pooling.name == "mean"
    # within one layer the new section wins over the old spelling
    assert build_config({"model": {"predictor_dim": 32}, "predictor": {"dim": 48}}).predictor.dim == 48


def test_model_config__moved_field_names_its_new_place():
    with pytest.raises(AttributeError, match=r"model\.predictor_dim moved to predictor\.dim"):
        build_config().model.predictor_dim
    with pytest.raises(AttributeError, match=r"model\.pooling moved to pooling\.name"):
        build_config().model.pooling


@pytest.mark.parametrize("modality, predictor, pooling, target", [
    ("tabular", {"name": "masked", "dim": 64, "depth": 2, "heads": 4}, {"name": "concat"},
     {"kind": "ema", "momentum": [0.98, 1.0]}),
    ("lidar", {"name": "masked", "dim": 64, "depth": 2, "heads": 4}, {"name": "mean"},
     {"kind": "ema", "momentum": [0.98, 1.0]}),
])
def test_build_config__0_1_configs_load_their_predictor_pooling_and_target(modality, predictor, pooling,
                                                                            target):
    cfg = build_config(load_yaml(OLD_RUNS / modality / "config.yaml"))
    assert (to_dict(cfg.predictor), to_dict(cfg.pooling), to_dict(cfg.target)) == (predictor, pooling, target)


def test_build_config__pre_section_run_config_loads():
    """A config.yaml written just before predictor/pooling/target had their own sections."""
    cfg = build_config(load_yaml(OLD_RUNS / "tabular_ckpt" / "config.yaml"))
    assert to_dict(cfg.predictor) == {"name": "masked", "dim": 8, "depth": 1, "heads": 2}
    assert to_dict(cfg.pooling) == {"name": "concat"}
    assert to_dict(cfg.target) == {"kind": "ema", "momentum": [0.98, 1.0]}


def test_upgrade_legacy__flat_target_section_keeps_the_chosen_providers_fields():
    flat = {"kind": "frozen", "momentum": [0.99, 1.0], "frozen_run": "r"}
    assert upgrade_legacy({"target": flat}) == {"target": {"kind": "frozen", "frozen_run": "r"}}
    assert upgrade_legacy({"target": {**flat, "kind": "none"}}) == {"target": {"kind": "none"}}
