"""Text to ids for the event tokens: hashed character n-grams (no vocabulary, no
download), or the token ids of a user-supplied local tokenizer folder."""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

from jepa_core.modality import DataError


def char_ngrams(text: str, sizes: list[int], max_chars: int) -> list[str]:
    """The character n-grams of each lower-cased word, ``^`` and ``$`` marking its ends.

    Examples:
        >>> char_ngrams("Buy now", [3], 64)
        ['^bu', 'buy', 'uy$', '^no', 'now', 'ow$']
    """
    grams = []
    for word in text[:max_chars].lower().split():
        w = f"^{word}$"
        for n in sizes:
            grams += [w[i:i + n] for i in range(max(len(w) - n + 1, 0))]
    return grams


def hash_ngrams(text: str, sizes: list[int], max_chars: int, buckets: int, salt: str = "") -> list[int]:
    """Bucket ids in ``[1, buckets)`` of the n-grams of ``text`` (0 is left for padding).

    The hash is CRC-32 of ``salt + gram``: the same ids in every process and on every
    machine (Python's ``hash`` of a string is salted per process). ``salt`` keeps the
    n-grams of different fields (element text, typed text) apart.

    Examples:
        >>> hash_ngrams("ok", [2], 64, 100) == hash_ngrams("OK", [2], 64, 100)
        True
        >>> all(1 <= i < 100 for i in hash_ngrams("hello world", [2, 3], 64, 100))
        True
    """
    return [1 + zlib.crc32((salt + g).encode("utf-8")) % (buckets - 1)
            for g in char_ngrams(text, sizes, max_chars)]


#: Files of which a tokenizer folder holds at least one.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json",
                   "tokenizer.model", "spiece.model")


@functools.lru_cache(maxsize=4)
def load_text_tokenizer(folder: str):
    """A ``transformers`` tokenizer read from a local folder, offline (never downloaded).

    Raises:
        DataError: ``folder`` is not a folder, or holds no tokenizer ``transformers`` can
            load (naming the folder and what was expected).
    """
    path = Path(folder)
    if not path.is_dir():
        raise DataError(f"options.text_tokenizer: {folder}: no such folder (expected a local "
                        f"transformers tokenizer folder, e.g. one written by save_pretrained)")
    found = [f for f in TOKENIZER_FILES if (path / f).is_file()]
    if not found:
        raise DataError(f"options.text_tokenizer: {folder}: not a tokenizer folder (none of "
                        f"{', '.join(TOKENIZER_FILES)} in it)")
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise DataError("options.text_tokenizer needs the transformers package "
                        "(pip install transformers)") from None
    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except Exception as e:  # transformers raises OSError, ValueError, KeyError, ... here
        raise DataError(f"options.text_tokenizer: {folder}: not a tokenizer folder transformers "
                        f"can load offline (tokenizer.json or tokenizer_config.json with its "
                        f"vocabulary files expected; {type(e).__name__}: "
                        f"{' '.join(str(e).split())[:160]})") from None
    if not callable(getattr(tok, "encode", None)) or len(tok) < 1:
        raise DataError(f"options.text_tokenizer: {folder}: loaded {type(tok).__name__}, which is "
                        f"not a text tokenizer")
    return tok


def token_ids(tokenizer, text: str, max_chars: int) -> list[int]:
    """Ids in ``[1, len(tokenizer)]`` of the tokens of ``text`` (0 is left for padding),
    without special tokens; the first ``max_chars`` characters only."""
    if not text:
        return []
    return [1 + int(i) for i in tokenizer.encode(text[:max_chars], add_special_tokens=False)]
