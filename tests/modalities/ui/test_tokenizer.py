"""The event tokenizer: one token per event, coordinates from time and screen point, padding."""

from __future__ import annotations

import json

import torch

from jepa_core.config import build_config
from jepa_core.registry import create_modality
from modalities.ui.dataset import FEATURES
from modalities.ui.text import hash_ngrams

from .loading import load_ui

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
    return load_ui(path, dim)


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


def test_tokenizer__screenshots_go_through_the_image_patch_encoder(tmp_path):
    from PIL import Image

    (tmp_path / "shots").mkdir()
    Image.new("RGB", (90, 160), (250, 10, 10)).save(tmp_path / "shots" / "red.png")
    Image.new("RGB", (90, 160), (10, 10, 250)).save(tmp_path / "shots" / "blue.png")
    events = [{"t": 0, "action": "tap", "x": 0.5, "y": 0.5}, {"t": 1, "action": "key", "text": "enter"}]
    lines = [{"intent": "a", "events": events, "screens": ["shots/red.png", None]},
             {"intent": "b", "events": events, "screens": ["shots/blue.png", None]}]
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in lines))
    plugin = create_modality("ui")
    cfg = build_config({"modality": "ui"}, plugin.default_config(), {"model": {"dim": 16}})
    dataset, state = plugin.load(str(path), cfg, None)
    assert state["has_screens"] and dataset[0]["screen"].shape == (2, 3, 16, 16)
    assert dataset[0]["has_screen"].tolist() == [True, False]
    tok = plugin.build_tokenizer(cfg, state)
    tb = tok(plugin.collate([dataset[0], dataset[1]]))
    assert not torch.allclose(tb.tokens[0, 0], tb.tokens[1, 0])  # the screenshots differ
    assert torch.allclose(tb.tokens[0, 1], tb.tokens[1, 1])  # no screenshot: the same event
    (tb.tokens * torch.randn_like(tb.tokens)).sum().backward()  # a plain sum: no gradient
    assert tok.screen.patches.proj.weight.grad.abs().sum() > 0
