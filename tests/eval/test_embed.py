"""Per-token embeddings with validity, for modalities with and without a grid."""

import numpy as np
import torch

from jepa_core.config import build_config
from jepa_core.eval import encode_dataset, encode_tokens
from jepa_core.run import build_model
from tests.toy_modality import ToyEventModality, ToyModality, write_toy_data, write_toy_events


def _model(plugin, path):
    cfg = build_config({"modality": plugin.name}, plugin.default_config(), {"data": {"path": str(path)}})
    dataset, state = plugin.load(str(path), cfg, None)
    return build_model(cfg, plugin, state).eval(), dataset


def test_encode_tokens__without_a_grid_pads_to_the_longest_sample_and_marks_it(tmp_path):
    plugin = ToyEventModality()
    model, dataset = _model(plugin, write_toy_events(tmp_path / "e.npz"))
    feats, valid = encode_tokens(model.target_encoder, plugin, dataset, batch_size=5)
    lengths = np.array([len(dataset[i]["values"]) for i in range(len(dataset))])
    assert feats.shape == (len(dataset), lengths.max(), 16) and valid.dtype == bool
    np.testing.assert_array_equal(valid.sum(1), lengths)
    assert not feats[~valid].any()  # padding is zeros
    with torch.no_grad():  # each sample alone gives the same features as in its padded batch
        for i in (0, 7):
            alone, _ = model.target_encoder.token_features(plugin.collate([dataset[i]]))
            np.testing.assert_allclose(feats[i, :lengths[i]], alone[0].numpy(), rtol=1e-4, atol=1e-5)


def test_encode_tokens__on_a_grid_equals_token_level_embeddings(tmp_path):
    plugin = ToyModality()
    model, dataset = _model(plugin, write_toy_data(tmp_path / "x.npy", rows=20))
    feats, valid = encode_tokens(model.target_encoder, plugin, dataset, batch_size=8)
    assert valid.all()
    np.testing.assert_array_equal(feats, encode_dataset(model.target_encoder, plugin, dataset, "token",
                                                        batch_size=8))


def test_encode__without_a_terminal_long_loops_print_plain_progress_lines(tmp_path, capsys):
    plugin = ToyModality()
    model, dataset = _model(plugin, write_toy_data(tmp_path / "x.npy", rows=20))
    capsys.readouterr()
    encode_dataset(model.target_encoder, plugin, dataset, "sample", batch_size=2, desc="embed pretrained")
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"embed pretrained: batch {k}/10" for k in range(1, 11)]
    encode_tokens(model.target_encoder, plugin, dataset, batch_size=4)  # 5 batches: seconds, no lines
    encode_dataset(model.target_encoder, plugin, dataset, "sample", batch_size=2, progress=False)
    assert capsys.readouterr().err == ""
