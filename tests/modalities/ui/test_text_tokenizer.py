"""``options.text_tokenizer``: element text through a user-supplied local tokenizer folder."""

from __future__ import annotations

import json

import pytest
import torch

from jepa_core.cli import main as jepa
from jepa_core.modality import DataError

from .second_sim import write_second_sim
from .loading import load_ui
from .test_cli import TINY
from .tiny_lm import write_tiny_tokenizer

WORDS = ["pay now", "search", "send message", "wi fi", "back", "buy now", "checkout"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui_tok")
    return write_second_sim(root / "sessions", num=24), write_tiny_tokenizer(root / "tok", WORDS)


def test_text_tokenizer__token_ids_replace_the_hashed_ngrams(data, tmp_path):
    from transformers import AutoTokenizer

    sessions, tok_dir = data
    one = tmp_path / "one.jsonl"
    one.write_text(json.dumps({"intent": "x", "events": [
        {"t": 0, "action": "tap", "x": 0.1, "y": 0.2, "element": {"role": "button", "text": "Pay now"}},
        {"t": 1, "action": "type", "text": "zebra"}]}) + "\n")
    plugin, cfg, dataset, state = load_ui(one, text_tokenizer=str(tok_dir))
    vocab = AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True)
    assert state["text_vocab"] == len(vocab)
    assert state["options"]["text_tokenizer"] == str(tok_dir.resolve())
    expected = [1 + i for i in vocab.encode("Pay now", add_special_tokens=False)]
    assert dataset[0]["grams"][0].tolist() == expected and expected != [1, 1]  # known words
    assert dataset[0]["grams"][1].tolist() == [1, 0]  # "zebra": the unknown token, then padding
    tok = plugin.build_tokenizer(cfg, state)
    assert tok.text.num_embeddings == len(vocab) + 1
    _, _, hashed, _ = load_ui(one)
    assert dataset[0]["grams"].shape != hashed[0]["grams"].shape or \
        not torch.equal(dataset[0]["grams"], hashed[0]["grams"])


def test_text_tokenizer__pretrain_and_embed(data, tmp_path, capsys):
    sessions, tok_dir = data
    out = tmp_path / "run"
    assert jepa(["pretrain", "ui", "--data", str(sessions), "--out", str(out), "--steps", "4",
                 "--batch-size", "8", "--set", f"options.text_tokenizer={tok_dir}", *TINY]) == 0
    capsys.readouterr()
    assert jepa(["embed", str(out), "--data", str(sessions), "--out", str(tmp_path / "e.npy")]) == 0


def test_text_tokenizer__a_folder_that_is_not_a_tokenizer(data, tmp_path, capsys):
    from transformers import ViTConfig

    sessions, _ = data
    ViTConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2).save_pretrained(str(tmp_path / "vit"))
    (tmp_path / "vit" / "tokenizer_config.json").write_text("{}")
    for folder, words in ((tmp_path / "vit", "not a tokenizer folder"),
                          (tmp_path / "empty", "not a tokenizer folder"),
                          (tmp_path / "none", "no such folder")):
        folder.mkdir(exist_ok=True) if folder.name == "empty" else None
        with pytest.raises(DataError, match=words) as e:
            load_ui(sessions, text_tokenizer=str(folder))
        assert str(folder) in str(e.value) and "options.text_tokenizer" in str(e.value)
    capsys.readouterr()
    assert jepa(["pretrain", "ui", "--data", str(sessions), "--out", str(tmp_path / "r"),
                 "--set", f"options.text_tokenizer={tmp_path / 'vit'}", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1 and "vit" in err
