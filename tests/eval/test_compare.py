"""compare_encoders: the JSON of ``jepa probe`` for every probe kind and baseline."""

import numpy as np
import pytest

from jepa_core.config import build_config
from jepa_core.eval import compare_encoders, split_indices
from jepa_core.eval.compare import raw_baseline
from jepa_core.modality import ProbeData
from jepa_core.run import build_model
from tests.toy_modality import ToyModality, write_toy_data


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    plugin = ToyModality()
    path = write_toy_data(tmp_path_factory.mktemp("d") / "x.npy", rows=60)
    cfg = build_config({"modality": "toy"}, plugin.default_config(), {"data": {"path": str(path)}})
    data = plugin.probe_data(str(path), "sign", None, cfg, plugin.load(str(path), cfg, None)[1])
    model = build_model(cfg, plugin, {"num_features": 6}).eval()
    return plugin, data, model


def test_compare_encoders__no_baseline_gives_null_raw_and_raw_probe(toy):
    plugin, data, model = toy
    bare = ProbeData(data.dataset, data.targets, None, data.task, data.metric)
    train, test = split_indices(60, bare.targets)
    result = compare_encoders(model.target_encoder, model.target_encoder, plugin, bare, "knn", train, test)
    assert result["raw"] is None and result["raw_probe"] is None
    assert result["pretrained"] == result["random_init"]  # the same encoder twice


def test_raw_baseline__attentive_falls_back_to_linear_on_raw_features(toy):
    _, data, _ = toy
    assert raw_baseline("attentive", data)[0] == "linear"
    assert raw_baseline("knn", data)[0] == "knn"
    tokens = ProbeData(data.dataset, data.targets, data.raw_features, data.task, data.metric,
                       raw_tokens=data.raw_features[..., None])
    probe, (raw, valid) = raw_baseline("attentive", tokens)
    assert probe == "attentive" and raw.shape == (60, 6, 1) and valid.all()


def test_compare_encoders__unknown_kind_is_a_clear_error(toy):
    plugin, data, model = toy
    with pytest.raises(ValueError, match="unknown probe 'svm'"):
        compare_encoders(model.target_encoder, model.target_encoder, plugin, data, "svm",
                         np.arange(40), np.arange(40, 60))
