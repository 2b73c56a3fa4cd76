"""The out-of-tree example plugin (examples/jepa-example-plugin): installed with pip, then
used through the `jepa` command with no edit to jepa_core.

The package is pip-installed (editable, no dependencies, no network) into the running
interpreter's environment for this module and uninstalled afterwards, unless it was
installed before the tests started. The masker, loss and reader are also tested in
process, imported from the source folder.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from tests.helpers import ROOT, check_maskset, run_cli

PLUGIN = ROOT / "examples" / "jepa-example-plugin"
DIST = "jepa-example-plugin"


def _pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def installed():
    """The example plugin, installed for the duration of this module."""
    try:
        importlib.metadata.distribution(DIST)
        was_installed = True
    except importlib.metadata.PackageNotFoundError:
        was_installed = False
    if not was_installed:
        if _pip("--version").returncode != 0:
            pytest.fail(f"pip is not available in {sys.executable}; it is needed to install {PLUGIN}")
        proc = _pip("install", "--quiet", "--no-build-isolation", "--no-deps", "-e", str(PLUGIN))
        assert proc.returncode == 0, f"pip install of {PLUGIN} failed:\n{proc.stdout}\n{proc.stderr}"
    yield
    if not was_installed:
        _pip("uninstall", "--quiet", "--yes", DIST)


@pytest.fixture
def plugin_source(monkeypatch):
    """``jepa_example_plugin`` importable in this process, from its source folder."""
    monkeypatch.syspath_prepend(str(PLUGIN))
    import jepa_example_plugin

    return jepa_example_plugin


def test_example_plugin__listed_by_modalities_and_components(installed):
    mods = run_cli("modalities")
    assert mods.returncode == 0, mods.stderr
    assert "example-sequences\tjepa_example_plugin.modality:EventSequences (jepa-example-plugin)" \
        in mods.stdout.splitlines()
    comps = run_cli("components")
    assert comps.returncode == 0, comps.stderr
    lines = comps.stdout.splitlines()
    for line in ("modality\texample-sequences\tjepa_example_plugin.modality:EventSequences",
                 "masker\texample-span\tjepa_example_plugin.masker:SpanMasker",
                 "objective\texample-cos\tjepa_example_plugin.loss:UnitSphereL2"):
        assert f"{line} (jepa-example-plugin)" in lines, comps.stdout
    assert "masker\tmultiblock\tjepa_core.masking.multiblock:MultiBlockMasker (jepa-core)" in lines


def test_example_plugin__pretrain_embed_probe(installed, tmp_path):
    env = {"JEPA_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    run = tmp_path / "RUN"
    pre = run_cli("pretrain", "example-sequences", "--out", str(run), "--set", "mask.name=example-span",
                  "--set", "objective.loss=example-cos", "--steps", "3", "--set", "logging.progress=false",
                  env=env)
    assert pre.returncode == 0, pre.stderr
    assert json.loads(pre.stdout)["steps"] == 3
    saved = (run / "config.yaml").read_text()
    assert "name: example-span" in saved and "loss: example-cos" in saved

    emb = run_cli("embed", str(run), "--out", str(tmp_path / "emb.npy"), env=env)
    assert emb.returncode == 0, emb.stderr
    assert np.load(tmp_path / "emb.npy").shape == (240, 32)

    probe = run_cli("probe", str(run), "--label", "label", env=env)
    assert probe.returncode == 0, probe.stderr
    result = json.loads(probe.stdout)
    assert result["task"] == "classification" and result["metric"] == "accuracy"
    assert 0.0 <= result["pretrained"] <= 1.0 and result["n_test"] > 0


def test_example_plugin__field_of_another_masker_is_one_error_line(installed, tmp_path):
    proc = run_cli("pretrain", "example-sequences", "--out", str(tmp_path / "r"), "--steps", "1",
                   "--set", "mask.context_ratio=0.5", env={"JEPA_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: config.mask.context_ratio is not a field of masker 'example-span' (it is one of: "
        "bev, random_subset); its fields are ['name', 'num_spans', 'span_ratio']")


def test_span_masker__contiguous_spans_of_valid_tokens(plugin_source):
    masker = plugin_source.SpanMasker(num_spans=2, span_ratio=0.4)
    lengths = torch.tensor([10, 6, 20, 2])
    valid = torch.arange(20)[None] < lengths[:, None]
    masks = masker(4, plugin_source.masker.TokenLayout((20,)), seed=3, step=7,
                   sample_ids=torch.tensor([5, 6, 7, 8]), token_valid=valid)
    check_maskset(masks, 20, token_valid=valid)
    for i, n in enumerate(lengths.tolist()):
        spans = [masks.target_idx[i, s][masks.target_valid[i, s]] for s in range(2)]
        ctx = masks.context_idx[i][masks.context_valid[i]]
        if n >= 4:
            for span in spans:
                assert len(span) == max(1, round(0.4 * n / 2))
                assert torch.equal(span, torch.arange(int(span[0]), int(span[0]) + len(span)))
        # every valid token is context or target, none is padding
        assert sorted(torch.cat([ctx, *spans]).tolist()) == list(range(n))


def test_span_masker__a_samples_masks_depend_on_its_id_only(plugin_source):
    masker = plugin_source.SpanMasker()
    layout = plugin_source.masker.TokenLayout((12,))
    a = masker(3, layout, seed=0, step=4, sample_ids=torch.tensor([1, 2, 3]))
    b = masker(2, layout, seed=0, step=4, sample_ids=torch.tensor([9, 2]))
    assert torch.equal(a.target_idx[1], b.target_idx[1])
    c = masker(3, layout, seed=0, step=5, sample_ids=torch.tensor([1, 2, 3]))
    assert not all(torch.equal(a.target_idx[i], c.target_idx[i]) for i in range(3))


def test_span_masker__config_and_checks(plugin_source):
    from jepa_core.masking import create_masker
    from jepa_core.registry import get_registry

    get_registry("masker").register("example-span", plugin_source.SpanMasker, "test")
    masker = create_masker({"name": "example-span", "num_spans": 3})
    assert (masker.num_spans, masker.span_ratio) == (3, 0.3)
    with pytest.raises(ValueError, match="needs at least 6 tokens"):
        masker.check(plugin_source.masker.TokenLayout((5,)))
    with pytest.raises(ValueError, match="span_ratio"):
        plugin_source.SpanMasker(span_ratio=1.5)


def test_example_cos__is_the_unit_sphere_distance(plugin_source):
    g = torch.Generator().manual_seed(0)
    p, t = torch.randn(4, 3, 8, generator=g), torch.randn(4, 3, 8, generator=g)
    unit = torch.nn.functional.normalize
    expected = (unit(p, dim=-1) - unit(t, dim=-1)).square().sum(-1)
    term = plugin_source.UnitSphereL2()
    torch.testing.assert_close(term.distance(p, t), expected, rtol=1e-5, atol=1e-6)
    w = torch.rand(4, 3, generator=g)
    torch.testing.assert_close(term(p, t, w), (w * expected).sum() / w.sum(), rtol=1e-5, atol=1e-6)


def test_reader__bad_lines_name_the_file_and_line(plugin_source, tmp_path):
    from jepa_core.modality import DataError

    read = plugin_source.modality.read_sequences
    bad = {"not json": "nope", "lengths": '{"times": [0, 1], "values": [[1.0]]}',
           "decreasing": '{"times": [1, 0], "values": [1, 2]}',
           "nan": '{"times": [0, 1], "values": [1, NaN]}'}
    messages = {"not json": "not valid JSON", "lengths": "'values' needs one row per time",
                "decreasing": "non-decreasing", "nan": "NaN or infinite"}
    for case, line in bad.items():
        path = tmp_path / f"{case.replace(' ', '_')}.jsonl"
        path.write_text('{"times": [0], "values": [0.5]}\n' + line + "\n")
        with pytest.raises(DataError, match=rf"{path.name}: line 2: .*{re.escape(messages[case])}"):
            read(path)
    with pytest.raises(DataError, match="no such file"):
        read(tmp_path / "missing.jsonl")


def test_example_plugin__docstring_examples_run(plugin_source):
    import doctest

    for name in ("loss", "masker", "modality"):
        module = getattr(plugin_source, name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, name
