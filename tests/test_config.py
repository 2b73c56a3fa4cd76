import pytest

from jepa_core.config import Config, ConfigError, build_config, load_yaml, parse_overrides, save_config


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
