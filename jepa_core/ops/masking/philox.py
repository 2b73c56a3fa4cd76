"""Philox4x32-10 in pure PyTorch: the counter-based generator behind every mask draw.

Every random number a masker uses is ``philox(counter, key)`` with ``key`` the run seed
and ``counter`` built from (draw index, step, sample id, stream tag). Draws therefore do
not depend on the batch a sample lands in, on the rank that draws it or on where a run
was resumed, and the compiled kernels (``csrc/masking.h``) give the same bits.

The 32x32 -> 64-bit products would overflow signed ``int64``, so they are split into
16-bit halves. Values are carried in ``int64`` tensors holding unsigned 32-bit words.

Reference: Salmon et al., "Parallel random numbers: as easy as 1, 2, 3" (SC 2011).
"""

from __future__ import annotations

import torch
from torch import Tensor

MASK32 = 0xFFFFFFFF
_M0, _M1 = 0xD2511F53, 0xCD9E8D57
_W0, _W1 = 0x9E3779B9, 0xBB67AE85
ROUNDS = 10

#: Stream tags (counter word 3, low byte): one per kind of draw, so streams never collide.
TAG_BLOCK_SIZE = 0
TAG_MULTIBLOCK = 1
TAG_RANDOM_SUBSET = 2
TAG_TEMPORAL = 3


def _mulhilo(a: int, b: Tensor) -> tuple[Tensor, Tensor]:
    """High and low 32-bit words of ``a * b`` (``a`` a 32-bit constant, ``b`` words)."""
    p = a * (b & 0xFFFF)          # < 2**48
    t = (p >> 16) + a * (b >> 16)  # < 2**49
    return t >> 16, ((t & 0xFFFF) << 16) | (p & 0xFFFF)


def philox4x32(c0: Tensor, c1: Tensor, c2: Tensor, c3: Tensor, k0: int, k1: int) -> Tensor:
    """Philox4x32-10 of broadcastable counter words under key ``(k0, k1)``.

    Args:
        c0, c1, c2, c3: counter words, ``int64`` tensors with values in ``[0, 2**32)``.
        k0, k1: key words in ``[0, 2**32)``.

    Returns:
        ``int64`` tensor ``[..., 4]`` of uniformly distributed 32-bit words.

    Examples:
        >>> z = torch.zeros((), dtype=torch.int64)
        >>> [hex(v) for v in philox4x32(z, z, z, z, 0, 0).tolist()]
        ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    c0, c1, c2, c3 = torch.broadcast_tensors(*(torch.as_tensor(c, dtype=torch.int64)
                                               for c in (c0, c1, c2, c3)))
    for r in range(ROUNDS):
        if r:
            k0, k1 = (k0 + _W0) & MASK32, (k1 + _W1) & MASK32
        hi0, lo0 = _mulhilo(_M0, c0)
        hi1, lo1 = _mulhilo(_M1, c2)
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return torch.stack((c0, c1, c2, c3), dim=-1)


def philox4x32_scalar(counter: tuple[int, int, int, int], key: tuple[int, int]) -> tuple[int, ...]:
    """Plain-Python Philox4x32-10 of one counter (for per-batch draws and tests).

    Examples:
        >>> [hex(v) for v in philox4x32_scalar((0, 0, 0, 0), (0, 0))]
        ['0x6627e8d5', '0xe169c58d', '0xbc57ac4c', '0x9b00dbd8']
    """
    c0, c1, c2, c3 = (c & MASK32 for c in counter)
    k0, k1 = (k & MASK32 for k in key)
    for r in range(ROUNDS):
        if r:
            k0, k1 = (k0 + _W0) & MASK32, (k1 + _W1) & MASK32
        p0, p1 = _M0 * c0, _M1 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK32, (p0 >> 32) ^ c3 ^ k1, p0 & MASK32
    return c0, c1, c2, c3


def seed_key(seed: int) -> tuple[int, int]:
    """The Philox key of a 64-bit run seed (negative seeds wrap as two's complement)."""
    return seed & MASK32, (seed >> 32) & MASK32


def sample_counters(sample_ids: Tensor, step: int, tag: int) -> tuple[Tensor, Tensor, Tensor]:
    """Counter words 1-3 of each sample's stream: ``(step, id low, tag | id high << 8)``.

    ``step`` is taken modulo ``2**32`` and ids modulo ``2**56``.

    Shapes:
        sample_ids ``[B]`` int64 -> three ``[B]`` int64 tensors.
    """
    ids = sample_ids.to(torch.int64)
    c1 = torch.full_like(ids, step & MASK32)
    return c1, ids & MASK32, ((ids >> 32) & 0xFFFFFF) * 256 + tag


def uniform01(word: int) -> float:
    """A float in ``[0, 1)`` from a 32-bit word: ``(word >> 8) * 2**-24``, exact in float32."""
    return (word >> 8) * (1.0 / 16777216.0)


def below(word: Tensor, n: Tensor | int) -> Tensor:
    """An integer in ``[0, n)`` from a 32-bit word: ``(word * n) >> 32`` (needs ``n < 2**31``)."""
    return (word * n) >> 32
