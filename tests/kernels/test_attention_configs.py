"""Autotune configurations of the masked-attention kernels: pruning keeps sensible tiles."""

from __future__ import annotations

import pytest

pytest.importorskip("triton")

from jepa_core.kernels import attention_configs as cfg  # noqa: E402


def _tiles(configs):
    return {(c.kwargs["BLOCK_M"], c.kwargs["BLOCK_N"], c.num_warps, c.num_stages) for c in configs}


def test_prune__small_problem_drops_big_tiles():
    configs = cfg._to_configs(cfg.FWD_TILES)
    kept = cfg.prune(configs, {"N_Q": 20, "N_K": 20}, HEAD_DIM=64, HAS_MASK=True)
    assert kept and all(m <= 64 and n <= 32 for m, n, _, _ in _tiles(kept))


def test_prune__large_head_dim_limits_stages():
    configs = cfg._to_configs(cfg.FWD_TILES)
    kept = cfg.prune(configs, {"N_Q": 4096, "N_K": 4096}, HEAD_DIM=128, HAS_MASK=False)
    assert (128, 128, 8, 2) in _tiles(kept)
    assert not any(m * n >= 128 * 128 and s > 2 for m, n, _, s in _tiles(kept))


def test_prune__never_empty():
    configs = cfg._to_configs(cfg.BWD_TILES)
    assert cfg.prune(configs, {"N_Q": 1, "N_K": 1}, HEAD_DIM=16, HAS_MASK=True)
