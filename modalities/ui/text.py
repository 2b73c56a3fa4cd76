"""Hashed character n-grams: a text embedding that needs no vocabulary and no download."""

from __future__ import annotations

import zlib


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
