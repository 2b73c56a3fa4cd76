"""Screenshots: the demo simulator renders them, they change the event tokens, a missing
one is an error naming the file and line, and pretraining with them runs and learns."""

from __future__ import annotations

import json

import pytest
import torch

from jepa_core.cli import main as jepa
from jepa_core.modality import DataError
from modalities.ui.demo import write_demo

from .loading import load_ui
from .test_cli import TINY


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("ui_shots"), num=24, screens=True)


def test_demo__renders_a_screenshot_per_event_but_key_presses(shots):
    session = json.loads(shots.read_text().splitlines()[0])
    assert len(session["screens"]) == len(session["events"])
    for ev, shot in zip(session["events"], session["screens"]):
        assert (shot is None) == (ev["action"] == "key")
        assert shot is None or (shots.parent / shot).is_file()


def test_screens__change_the_event_tokens_and_are_valid_only_where_given(shots):
    plugin, cfg, dataset, state = load_ui(shots)
    assert state["has_screens"]
    batch = plugin.collate([dataset[i] for i in range(4)])
    assert batch["has_screen"].any() and not batch["has_screen"].all()
    torch.manual_seed(0)
    tok = plugin.build_tokenizer(cfg, state)
    with_screens = tok(batch).tokens
    blank = {**batch, "screen": torch.zeros_like(batch["screen"])}
    changed = (with_screens - tok(blank).tokens).abs().sum(-1) > 1e-6
    assert torch.equal(changed, batch["has_screen"])  # events without a screenshot: untouched
    _, _, _, off = load_ui(shots, screens=False)
    assert not off["has_screens"]
    assert plugin.build_tokenizer(cfg, off).screen is None


def test_screens__missing_screenshot_names_file_and_line(shots, tmp_path):
    lines = shots.read_text().splitlines()
    session = json.loads(lines[1])
    session["screens"][0] = "shots/gone.png"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n" + json.dumps(session) + "\n")
    (tmp_path / "shots").symlink_to(shots.parent / "shots")
    with pytest.raises(DataError, match=r"bad\.jsonl: line 2: screens\[0\]: screenshot 'shots/gone.png' does not exist"):
        load_ui(bad)


def test_screens__pretraining_with_screenshots_lowers_the_loss(shots, tmp_path, capsys):
    out = tmp_path / "run"
    assert jepa(["pretrain", "ui", "--data", str(shots), "--out", str(out), "--steps", "30",
                 "--batch-size", "12", "--set", "logging.log_every=5", *TINY]) == 0
    state = json.loads((out / "modality_state.json").read_text())
    assert state["has_screens"]
    losses = [json.loads(line)["latent"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(losses) == 6 and losses[-1] < losses[0]
    capsys.readouterr()
    assert jepa(["embed", str(out), "--data", str(shots), "--out", str(tmp_path / "e.npy")]) == 0


def test_screens__a_file_that_is_not_an_image_names_the_event(tmp_path):
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "0.png").write_text("not a png")
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"events": [{"t": 0, "action": "tap", "x": 0.5, "y": 0.5}],
                                "screens": ["shots/0.png"]}) + "\n")
    with pytest.raises(DataError, match=r"s\.jsonl: line 1: event 0: screenshot .*0\.png cannot be read"):
        load_ui(path)
