"""A tiny GPT-2 and a word-level tokenizer built offline into a folder, for ``jepa decode``
and ``options.text_tokenizer`` tests."""

from __future__ import annotations

from pathlib import Path


def tiny_tokenizer(texts: list[str]):
    """A word-level fast tokenizer (``[UNK]`` 0, ``[EOS]`` 1) over the words of ``texts``."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[EOS]": 1}
    for text in texts:
        for w in pre_tokenizers.Whitespace().pre_tokenize_str(text.lower()):
            vocab.setdefault(w[0], len(vocab))
    core = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]", eos_token="[EOS]",
                                   pad_token="[EOS]")


def write_tiny_tokenizer(folder: Path, texts: list[str]) -> Path:
    """:func:`tiny_tokenizer` over ``texts``, saved to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tiny_tokenizer(texts).save_pretrained(str(folder))
    return folder


def write_tiny_lm(folder: Path, texts: list[str]) -> Path:
    """A 1-layer, 32-wide GPT-2 whose tokenizer knows the words of ``texts``, saved to ``folder``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    tok = tiny_tokenizer(texts)
    torch.manual_seed(0)
    lm = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=32, n_head=2, n_positions=128,
                                    vocab_size=len(tok), bos_token_id=1, eos_token_id=1))
    folder.mkdir(parents=True, exist_ok=True)
    lm.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder
