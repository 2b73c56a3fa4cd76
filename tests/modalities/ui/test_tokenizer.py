"""The event tokenizer: one token per event, coordinates from time and screen point, padding."""

from __future__ import annotations

import json

import torch

from jepa_core.config import build_config
from jepa_core.registry import create_modality
from modalities.ui.dataset import FEATURES
from modalities.ui.text import hash_ngrams

SESSIONS = [
    {"intent": "a", "events": [{"t": 10, "action": "tap", "x": 0.25, "y": 0.5,
                                "element": {"role": "button", "text": "Pay", "id": "pay"}},
                               {"t": 12, "action": "type", "text": "hello"},
                               {"t": 14, "action": "key", "text": "enter"}]},
    {"intent": "b", "events": [{"t": 0, "action": "scroll", "x": 0.5, "y": 0.8, "x2": 0.5, "y2": 0.2}]},
]


def _load(tmp_path, dim=16):
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in SESSIONS))
    plugin = create_modality("ui")
    cfg = build_config({"modality": "ui"}, plugin.default_config(), {"model": {"dim": dim}})
    dataset, state = plugin.load(str(path), cfg, None)
    return plugin, cfg, dataset, state


def test_tokenizer__one_token_per_event_with_coords_and_validity(tmp_path):
    plugin, cfg, dataset, state = _load(tmp_path)
    assert state["roles"] == ["button"] and state["max_events"] == 3 and state["time_scale"] == 2.0
    batch = plugin.collate([dataset[0], dataset[1]])
    tb = plugin.build_tokenizer(cfg, state)(batch)
    assert tb.layout is None and tb.tokens.shape == (2, 3, 16)
    assert tb.valid.tolist() == [[True, True, True], [True, False, False]]
    # time in units of the median gap; x, y times xy_scale; the typed event keeps the last point
    assert tb.coords[0].tolist() == [[0.0, 2.0, 4.0], [1.0, 2.0, 4.0], [2.0, 2.0, 4.0]]
    assert (tb.tokens[1, 1:] == 0).all() and tb.tokens[0].abs().sum(-1).gt(0).all()
    feats = dict(zip(FEATURES, batch["feats"][1, 0].tolist()))
    assert feats["dy"] == torch.tensor(-0.6).item() and feats["has_point"] == 1.0


def test_tokenizer__texts_change_the_token(tmp_path):
    plugin, cfg, dataset, state = _load(tmp_path)
    tok = plugin.build_tokenizer(cfg, state)
    batch = plugin.collate([dataset[0]])
    assert batch["grams"][0, 1].tolist()[:len(hash_ngrams("hello", [2, 3], 64, 2048, "t:"))] == \
        hash_ngrams("hello", [2, 3], 64, 2048, "t:")
    other = {**batch, "grams": torch.zeros_like(batch["grams"])}
    assert not torch.allclose(tok(batch).tokens[0, 1], tok(other).tokens[0, 1])


def test_tokenizer__sessions_longer_than_the_run_are_an_error(tmp_path):
    import pytest

    from jepa_core.modality import DataError

    plugin, cfg, _, state = _load(tmp_path)
    long = tmp_path / "long.jsonl"
    long.write_text(json.dumps({"events": [{"t": i, "action": "key"} for i in range(5)]}) + "\n")
    with pytest.raises(DataError, match=r"long\.jsonl: line 1: session has 5 events.*max_events 3"):
        plugin.load(str(long), cfg, state)
