"""Capability flags say why the compiled extension is not in use."""

from __future__ import annotations

import importlib

import pytest

from jepa_core import cli

capabilities = importlib.import_module("jepa_core.ops.capabilities")


@pytest.fixture()
def broken_extension(monkeypatch):
    """``jepa_core._C`` present but built against another torch (an undefined symbol)."""
    real = importlib.import_module

    def import_module(name, *args):
        if name == "jepa_core._C":
            raise ImportError("_C.so: undefined symbol: _ZN3c1017torch_other_abiEv")
        return real(name, *args)

    monkeypatch.setattr(capabilities.importlib, "import_module", import_module)
    capabilities._load_extension.cache_clear()
    yield
    capabilities._load_extension.cache_clear()


def test_extension_problem__a_load_error_is_named_with_the_fix(broken_extension):
    assert not capabilities.extension_loaded()
    problem = capabilities.extension_problem()
    assert problem.startswith("built but fails to load with torch ")
    assert "undefined symbol: _ZN3c1017torch_other_abiEv" in problem and "rebuild: pip install" in problem
    summary = capabilities.summary()
    assert summary["extension"] is False and summary["extension_problem"] == problem


def test_info_brief__says_the_extension_fails_to_load_not_that_it_is_absent(broken_extension):
    line = cli._brief_info({"compiled": capabilities.summary(), "jepa_core": "0", "torch": "2",
                            "torch_cuda": None, "triton": None, "attention": {}, "modalities": []})
    assert "extension built but fails to load with torch" in line and "not built" not in line


def test_extension_problem__none_when_loaded():
    capabilities._load_extension.cache_clear()
    if capabilities.extension_loaded():
        assert capabilities.extension_problem() is None
        assert "extension_problem" not in capabilities.summary()
    else:
        assert capabilities.extension_problem() in ("not built", "disabled (JEPA_DISABLE_EXTENSION=1)")
