"""Third-party target providers, predictors and poolings with their own config dataclasses:
their sections are validated against them and they are built from them."""

from dataclasses import dataclass

import pytest
import torch

from jepa_core import registry
from jepa_core.config import ComponentConfig, ConfigError, TargetConfig, build_config, parse_overrides
from jepa_core.method import JEPA
from jepa_core.models.pooling import Pooling
from jepa_core.objectives import LatentTerm, Objective, Regularizer
from jepa_core.models.predictor import MaskedPredictorConfig, Predictor
from jepa_core.targets import TargetProvider
from tests.toy_modality import ToyModality, ToyTokenizer


@dataclass
class ScaledConfig(MaskedPredictorConfig):
    scale: float = 1.0


class ScaledPredictor(Predictor):
    """The masked predictor with its output scaled: a predictor with one more field."""

    config_class = ScaledConfig

    def __init__(self, layout, in_dim, out_dim, cfg, cond_dim=0, **kwargs):
        super().__init__(layout, in_dim, out_dim, cfg, cond_dim, **kwargs)
        self.cfg = cfg

    def forward(self, *args, **kwargs):
        return self.cfg.scale * super().forward(*args, **kwargs)


@dataclass
class SteadyConfig(TargetConfig):
    rate: float = 0.5


class SteadyEma(TargetProvider):
    """An EMA teacher at one constant momentum, ``rate``."""

    config_class = SteadyConfig

    def __init__(self, student, teacher=None, rate=0.5):
        super().__init__("ema", student, momentum=(rate, rate))


@dataclass
class TopConfig(ComponentConfig):
    k: int = 1


class TopPooling(Pooling):
    """The mean of the first ``k`` tokens."""

    config_class = TopConfig

    def __init__(self, k=1):
        self.k = k

    def __call__(self, features, registers, valid):
        return features[:, : self.k].mean(1)


@pytest.fixture
def registered(monkeypatch):
    for kind, name, cls in (("predictor", "scaled", ScaledPredictor), ("target", "steady", SteadyEma),
                            ("pooling", "top", TopPooling)):
        reg = registry.REGISTRIES[kind]
        reg.discover()
        monkeypatch.setitem(reg._classes, name, cls)
        monkeypatch.setitem(reg._sources, name, "test")


def _model(*overrides):
    plugin = ToyModality()
    cfg = build_config(plugin.default_config(), parse_overrides(list(overrides)))
    return cfg, JEPA.build(ToyTokenizer(6, cfg.model.dim), cfg)


def test_registered_components__sections_validated_and_built_from_them(registered):
    cfg, model = _model("predictor.name=scaled", "predictor.scale=0.0", "target.kind=steady",
                        "target.rate=0.9", "pooling.name=top", "pooling.k=2")
    assert cfg.predictor == ScaledConfig(name="scaled", dim=16, depth=1, heads=2, scale=0.0)
    assert (type(model.predictor), model.predictor.cfg.scale) == (ScaledPredictor, 0.0)
    assert len(model.predictor.transformer.blocks) == 1  # the plugin's model.predictor_depth=1
    assert type(model.target) is SteadyEma and model.target.momentum_at(3, 10) == 0.9
    assert type(model.encoder.pool) is TopPooling and model.encoder.pool.k == 2
    assert model.encoder.pooled_features(torch.randn(3, 6)).shape == (3, 16)
    out = model(torch.randn(4, 6), torch.arange(4), step=0)
    assert out.parts["latent"].item() > 0  # a zero prediction against layer-normed targets


@pytest.mark.parametrize("override, message", [
    ("predictor.sale=1", r"predictor\.sale is not a field of predictor 'scaled'; its fields are "
                         r"\['name', 'dim', 'depth', 'heads', 'scale'\]"),
    ("target.momentum=[0.9,1.0]", r"target\.momentum is not a field of target 'steady' \(it is one of: "
                                  r"ema\); its fields are \['kind', 'rate'\]"),
    ("pooling.q=1", r"pooling\.q is not a field of pooling 'top'; its fields are \['name', 'k'\]"),
])
def test_registered_components__unknown_key_lists_their_fields(registered, override, message):
    section, _, _ = override.partition(".")
    name = {"predictor": "predictor.name=scaled", "target": "target.kind=steady", "pooling": "pooling.name=top"}
    with pytest.raises(ConfigError, match=message):
        build_config(parse_overrides([name[section], override]))


def test_registered_components__a_field_of_the_new_one_is_kept_after_the_switch(registered):
    cfg = build_config({"target": {"momentum": [0.98, 1.0]}}, parse_overrides(["target.kind=steady"]))
    assert cfg.target == SteadyConfig(kind="steady", rate=0.5)
    plugin = {"model": {"predictor_dim": 32, "predictor_heads": 4}}
    assert build_config(plugin, parse_overrides(["predictor.name=scaled"])).predictor.dim == 32


def test_register__config_class_of_the_wrong_base_is_refused():
    class Bad(TargetProvider):
        config_class = ScaledConfig  # a ComponentConfig, not a TargetConfig

    with pytest.raises(TypeError, match="must be a dataclass deriving from jepa_core.config.TargetConfig"):
        registry.REGISTRIES["target"].register("bad", Bad)


@dataclass
class PowerConfig(ComponentConfig):
    power: float = 2.0


class PowerLoss(LatentTerm):
    """``|pred - target| ** power`` summed over dims."""

    config_class = PowerConfig

    def __init__(self, power=2.0):
        super().__init__()
        self.power = power

    def distance(self, pred, target):
        return (pred - target).abs().pow(self.power).sum(-1)


@dataclass
class ScaleConfig(ComponentConfig):
    scale: float = 1.0


class MeanNormReg(Regularizer):
    config_class = ScaleConfig

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def forward(self, z, *, mask=None, seed=0, step=0, sync=True):
        return self.scale * z.mean(0).norm()


@pytest.fixture
def terms(monkeypatch):
    reg = registry.REGISTRIES["objective"]
    reg.discover()
    for name, cls in (("power", PowerLoss), ("mean-norm", MeanNormReg)):
        monkeypatch.setitem(reg._classes, name, cls)
        monkeypatch.setitem(reg._sources, name, "test")


def test_objective_terms__settings_validated_and_passed_in(terms):
    cfg = build_config(parse_overrides(["objective.loss=power", "objective.terms.power.power=1.0",
                                        "objective.regularizers.mean-norm=0.5",
                                        "objective.terms.mean-norm.scale=3.0"]))
    obj = Objective.from_config(cfg.objective)
    assert (obj.latent.power, obj.extra["mean-norm"].scale) == (1.0, 3.0)
    pred, target = torch.full((1, 2, 3), 2.0), torch.zeros(1, 2, 3)
    _, parts = obj(pred, target, None, torch.ones(4, 3), seed=0, step=0)
    assert parts["latent"] == pytest.approx(6.0) and parts["mean-norm"] == pytest.approx(3.0 * 3 ** 0.5)
    assert Objective.from_config(build_config({"objective": {"loss": "power"}}).objective).latent.power == 2.0


def test_objective_terms__unknown_field_or_term(terms):
    with pytest.raises(ConfigError, match=r"objective\.terms\.power\.pow is not a field of objective 'power'; "
                                          r"its fields are \['power'\]"):
        build_config(parse_overrides(["objective.terms.power.pow=1"]))
    with pytest.raises(ConfigError, match=r"objective\.terms\.nope: unknown objective 'nope'"):
        build_config(parse_overrides(["objective.terms.nope.x=1"]))
    with pytest.raises(ConfigError, match=r"objective\.terms\.power\.power: expected a number"):
        build_config(parse_overrides(["objective.terms.power.power=big"]))


def test_cli_components__fields_column_lists_each_sections_keys(registered, terms, capsys):
    from jepa_core import cli

    assert cli.main(["components", "--fields"]) == 0
    lines = {tuple(line.split("\t")[:2]): line.split("\t") for line in capsys.readouterr().out.splitlines()}
    assert lines["target", "ema"][3] == "target.momentum=[0.996, 1.0]"
    assert lines["target", "frozen"][3] == "target.frozen_run=null, target.frozen_hf=null"
    assert lines["target", "steady"][3] == "target.rate=0.5"
    assert lines["predictor", "masked"][3] == "predictor.dim=64, predictor.depth=2, predictor.heads=4"
    assert lines["predictor", "scaled"][3].endswith("predictor.heads=4, predictor.scale=1.0")
    assert lines["pooling", "top"][3] == "pooling.k=1" and lines["pooling", "mean"][3] == "-"
    assert lines["masker", "random_subset"][3] == "mask.context_ratio=0.5, mask.target_ratio=0.25"
    assert "options.ignore_columns=[]" in lines["modality", "tabular"][3]
    assert lines["objective", "power"][3] == "objective.terms.power.power=2.0"
    assert lines["objective", "cosine"][3] == "-"
    assert cli.main(["components"]) == 0
    assert all(len(line.split("\t")) == 3 for line in capsys.readouterr().out.splitlines())

