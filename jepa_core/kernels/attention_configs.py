"""Autotune configurations for the masked-attention kernels, kept as data.

Hopper-sized tiles on a GPU; one small tile under ``TRITON_INTERPRET=1`` so the CPU
interpreter runs quickly and small test shapes still span several blocks.
"""

from __future__ import annotations

import itertools
import os

import triton

# (BLOCK_M, BLOCK_N, num_warps, num_stages) tried on a GPU.
FWD_TILES = [(m, n, w, s) for m, n, w, s in itertools.product((64, 128), (32, 64, 128), (4, 8), (2, 3, 4))]
BWD_TILES = [(m, n, w, s) for m, n, w, s in itertools.product((32, 64), (64, 128), (4, 8), (2, 3))]
INTERPRETER_TILE = (16, 16, 1, 1)

# Arguments the tuned choice depends on (tensor dtypes are added by Triton itself).
AUTOTUNE_KEY = ["N_Q", "N_K", "HEAD_DIM", "HAS_MASK"]


def interpreting() -> bool:
    """True when Triton runs in its CPU interpreter."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def _to_configs(tiles: list[tuple[int, int, int, int]]) -> list[triton.Config]:
    return [triton.Config({"BLOCK_M": m, "BLOCK_N": n}, num_warps=w, num_stages=s) for m, n, w, s in tiles]


def fwd_configs() -> list[triton.Config]:
    """Forward-kernel configurations to try."""
    return _to_configs([INTERPRETER_TILE] if interpreting() else FWD_TILES)


def bwd_configs() -> list[triton.Config]:
    """Backward-kernel (dK/dV and dQ) configurations to try."""
    return _to_configs([INTERPRETER_TILE] if interpreting() else BWD_TILES)


def prune(configs: list[triton.Config], named_args: dict, **kwargs) -> list[triton.Config]:
    """Drop tiles that are larger than the problem or too big for shared memory.

    Triton passes positional arguments in ``named_args`` and keyword ones (the
    constexprs such as ``HEAD_DIM``) in ``kwargs``. Keeps at least the smallest
    configuration so a tiny problem always has one.
    """
    if len(configs) <= 1:
        return configs
    args = {**named_args, **kwargs}
    n_q, n_k, head_dim = args["N_Q"], args["N_K"], args["HEAD_DIM"]
    cap_m = max(64, triton.next_power_of_2(n_q))
    cap_n = max(32, triton.next_power_of_2(n_k))
    kept = []
    for c in configs:
        bm, bn = c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"]
        if bm > cap_m or bn > cap_n:
            continue
        if head_dim > 64 and bm * bn >= 128 * 128 and c.num_stages > 2:
            continue
        if c.num_warps == 8 and bm * bn < 64 * 128:
            continue
        kept.append(c)
    return kept or [min(configs, key=lambda c: c.kwargs["BLOCK_M"] * c.kwargs["BLOCK_N"])]
