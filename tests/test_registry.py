import warnings

import pytest

from jepa_core import registry
from jepa_core.modality import ModalityPlugin
from tests.toy_modality import ToyModality


def test_list_modalities__builtins_come_from_entry_points():
    found = registry.list_modalities()
    assert "tabular" in found
    assert "jepa-core" in found["tabular"]


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
    monkeypatch.setattr(registry, "_discovered", False)
    with pytest.warns(UserWarning, match="'broken'.*failed to load"):
        found = registry.list_modalities()
    assert "broken" not in found and "tabular" in found


def test_register_modality__rejects_non_plugins():
    with pytest.raises(TypeError):
        registry.register_modality("x", dict)
