import dataclasses
import warnings

import pytest

from jepa_core import registry
from jepa_core.modality import ModalityPlugin
from tests.toy_modality import ToyModality


def test_list_modalities__builtins_come_from_entry_points():
    found = registry.list_modalities()
    assert "tabular" in found
    assert "jepa-core" in found["tabular"]


def _fresh(kind, monkeypatch):
    """An undiscovered copy of registry ``kind``, swapped in for the test."""
    reg = dataclasses.replace(registry.REGISTRIES[kind], _classes={}, _sources={}, _failures={},
                              _discovered=False)
    monkeypatch.setitem(registry.REGISTRIES, kind, reg)
    return reg


class FakeEntryPoint:
    """An entry point whose ``load`` returns ``obj`` (or raises it, if an exception)."""

    dist = None

    def __init__(self, name, obj, value="fake.module:Thing"):
        self.name, self.value, self._obj = name, value, obj

    def load(self):
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


def test_create_modality__unknown_name():
    with pytest.raises(registry.UnknownModalityError, match="unknown modality 'nope'"):
        registry.create_modality("nope")


def test_register_modality__duplicate_warns():
    registry.register_modality("toy-dup", ToyModality)

    class Other(ToyModality):
        pass

    with pytest.warns(UserWarning, match="replaces"):
        registry.register_modality("toy-dup", Other)
    assert isinstance(registry.create_modality("toy-dup"), Other)


def test_discover__broken_plugin_warns_and_others_load(monkeypatch):
    class BrokenEntryPoint:
        name, value, dist = "broken", "nowhere:Nothing", None

        def load(self):
            raise ImportError("no module named nowhere")

    good = [ep for ep in registry.entry_points(group=registry.GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: [BrokenEntryPoint(), *good])
    fresh = _fresh("modality", monkeypatch)
    with pytest.warns(UserWarning, match="'broken'.*failed to load"):
        found = fresh.list()
    assert "broken" not in found and "tabular" in found


def test_register_modality__rejects_non_plugins():
    with pytest.raises(TypeError):
        registry.register_modality("x", dict)


def test_every_kind__builtins_come_from_entry_points():
    found = registry.list_components()
    assert set(found) == {"modality", "masker", "objective", "target", "predictor", "pooling",
                          "method"}
    expected = {"masker": {"multiblock", "random_subset", "temporal", "bev"},
                "objective": {"l2", "smooth_l1", "l1", "cosine", "sigreg", "vicreg_variance",
                              "vicreg_covariance", "variance_hinge", "correlation_margin"},
                "target": {"ema", "frozen", "none"}, "predictor": {"masked"},
                "pooling": {"mean", "registers", "concat"}, "method": {"masked"}}
    for kind, names in expected.items():
        assert names <= set(found[kind]), kind
        assert all("(jepa-core)" in found[kind][n] for n in names), kind


def test_discover__missing_object_and_wrong_kind_warn_and_are_left_out(monkeypatch):
    from jepa_core.masking import RandomSubsetMasker

    eps = [FakeEntryPoint("missing", AttributeError("module 'fake.module' has no attribute "
                                                    "'Thing'")),
           FakeEntryPoint("wrong-kind", dict, "builtins:dict"),
           FakeEntryPoint("good", RandomSubsetMasker)]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    fresh = _fresh("masker", monkeypatch)
    with pytest.warns(UserWarning) as record:
        found = fresh.list()
    messages = " | ".join(str(w.message) for w in record)
    assert "'missing'" in messages and "has no attribute 'Thing'" in messages
    assert "'wrong-kind'" in messages and "is not a jepa_core.masking.base.Masker subclass" in messages
    assert list(found) == ["good"]
    assert set(fresh.failures()) == {"missing", "wrong-kind"}


def test_get__failed_plugin_says_why_not_unknown(monkeypatch):
    eps = [FakeEntryPoint("broken-mod", ImportError("No module named 'scipy'"), "brokenpkg:Plugin")]
    monkeypatch.setattr(registry, "entry_points", lambda group: eps)
    _fresh("modality", monkeypatch)
    with pytest.warns(UserWarning):
        with pytest.raises(registry.UnknownModalityError,
                           match=r"modality 'broken-mod' is installed but its plugin failed to "
                                 r"load \(brokenpkg:Plugin: ImportError: No module named 'scipy'\)"):
            registry.create_modality("broken-mod")


def test_register__duplicate_component_warns(monkeypatch):
    from jepa_core.masking import MultiBlockMasker, RandomSubsetMasker

    fresh = _fresh("masker", monkeypatch)
    fresh._discovered = True
    fresh.register("dup", MultiBlockMasker)
    with pytest.warns(UserWarning, match="masker 'dup' from runtime replaces"):
        fresh.register("dup", RandomSubsetMasker)
    assert fresh.get("dup") is RandomSubsetMasker


def test_register__config_class_must_be_a_component_config(monkeypatch):
    from jepa_core.masking import RandomSubsetMasker

    class Bad(RandomSubsetMasker):
        config_class = dict

    fresh = _fresh("masker", monkeypatch)
    fresh._discovered = True
    with pytest.raises(TypeError, match="config_class must be a dataclass deriving from"):
        fresh.register("bad", Bad)


def test_import_jepa_core__stays_light():
    import subprocess
    import sys

    code = ("import sys, jepa_core; jepa_core.__all__; "
            "print(sorted(m for m in ('torch', 'triton') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api__every_name_resolves():
    import jepa_core

    for name in jepa_core.__all__:
        assert getattr(jepa_core, name) is not None, name


def _fake_distribution(root, entry_points_txt):
    """A distribution named ``broken-plugin`` on ``root`` declaring ``entry_points_txt``."""
    info = root / "broken_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points_txt)
    return {"PYTHONPATH": str(root)}


def test_cli__pretrain_a_plugin_that_failed_to_import_says_why(tmp_path):
    from tests.helpers import run_cli

    env = _fake_distribution(tmp_path, "[jepa_core.modalities]\nbroken = broken_plugin_gone:Plugin\n")
    proc = run_cli("pretrain", "broken", "--out", str(tmp_path / "run"), env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: modality 'broken' is installed but its plugin failed to load "
        "(broken_plugin_gone:Plugin: ModuleNotFoundError: No module named 'broken_plugin_gone')")
    listed = run_cli("modalities", env=env)
    assert listed.returncode == 0 and "tabular\t" in listed.stdout
    assert "broken\tfailed to load: broken_plugin_gone:Plugin: ModuleNotFoundError" in listed.stdout


def test_cli__masker_entry_of_the_wrong_kind_is_left_out(tmp_path):
    from tests.helpers import run_cli

    env = _fake_distribution(tmp_path, "[jepa_core.maskers]\nnot-a-masker = collections:OrderedDict\n")
    proc = run_cli("components", env=env)
    assert proc.returncode == 0
    assert "warning: masker plugin 'not-a-masker' (collections:OrderedDict) failed to load: " \
           "TypeError: <class 'collections.OrderedDict'> is not a jepa_core.masking.base.Masker " \
           "subclass (required of a masker)" in proc.stderr
    assert "masker\tnot-a-masker\tfailed to load: collections:OrderedDict: TypeError" in proc.stdout
    assert "masker\tmultiblock\t" in proc.stdout
