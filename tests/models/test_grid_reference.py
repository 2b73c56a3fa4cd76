"""The grid path stays exact: tabular and lidar tokenizer + encoder + JEPA step at a fixed seed.

``grid_reference.safetensors`` holds the outputs of the code before per-token coordinates,
types and conditions were added (written by ``python -m tests.models.test_grid_reference``
from that code; rewritten once from later code on an AMD EPYC, to name the CPU in its tag,
after checking it equal to the first file within 1e-6). The comparison is to float32
round-off (the file may be checked on another CPU, whose BLAS may sum in another order); on
the machine that wrote it the outputs are bit-identical, which
``test_grid_reference__bit_identical_here`` checks when the file's ``machine`` tag
(architecture, CPU model, torch, threads) matches.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, safe_open, save_file
from torch.utils.data import default_collate

from jepa_core.config import build_config
from jepa_core.method import JEPA
from modalities.lidar import LidarModality
from modalities.lidar.pillars import concat_clouds
from modalities.tabular import TabularModality
from tests.helpers import tiny_table
from tests.modalities.lidar.scans import parking_lot

REFERENCE = Path(__file__).with_name("grid_reference.safetensors")
SMALL = {"dim": 16, "depth": 2, "heads": 2, "predictor_dim": 16, "predictor_depth": 1,
         "predictor_heads": 2}
#: The plugin defaults the reference was written with, where they have changed since: the
#: tabular VICReg terms (now on by default), numeric embedding (now ``linear_periodic``) and
#: method (now ``pooled_target``), and the lidar hinge target (now 0.25).
TABULAR_THEN = {"objective": {"vicreg_variance": 0.0, "vicreg_covariance": 0.0},
                "options": {"numeric_embedding": "linear"}, "method": {"name": "masked"}}
LIDAR_THEN = {"objective": {"hinge_gamma": 1.0}}
LIDAR_OPTIONS = {"point_range": [0.0, -12.8, -3.0, 25.6, 12.8, 1.0], "pillar_size": [0.8, 0.8],
                 "patch": 4, "pillar_channels": 8}


def _step(model: JEPA, batch, b: int, prefix: str) -> dict[str, torch.Tensor]:
    out = model(batch, torch.arange(b) + 7, 3)
    m = out.masks
    res = {f"{prefix}.loss": out.loss.detach().reshape(1), f"{prefix}.targets": out.targets,
           f"{prefix}.ctx_idx": m.context_idx, f"{prefix}.ctx_valid": m.context_valid,
           f"{prefix}.tgt_idx": m.target_idx, f"{prefix}.tgt_valid": m.target_valid}
    res.update({f"{prefix}.part.{k}": torch.tensor([v], dtype=torch.float64) for k, v in out.parts.items()})
    return res


def _encoder_outputs(model: JEPA, batch, prefix: str) -> dict[str, torch.Tensor]:
    enc = model.encoder.eval()
    tokens = enc.tokenize(batch)
    n = tokens.num_tokens
    idx = torch.arange(n // 2)[None] * 2 + torch.arange(tokens.batch_size)[:, None] % 2
    with torch.no_grad():
        return {f"{prefix}.tokens": tokens.tokens, f"{prefix}.full": enc(tokens),
                f"{prefix}.context": enc(tokens, idx, torch.ones_like(idx, dtype=torch.bool)),
                f"{prefix}.pooled": enc.pooled_features(batch)}


def grid_outputs(tmp: Path) -> dict[str, torch.Tensor]:
    """Every output compared: tokens, encoder outputs, masks, loss parts of one step."""
    torch.manual_seed(0)
    out: dict[str, torch.Tensor] = {}
    # tabular: per-feature tokens on a (F,) grid, multiblock masks, EMA targets
    tiny_table().to_csv(tmp / "t.csv", index=False)
    plugin = TabularModality()
    cfg = build_config(plugin.default_config(), {"model": {**SMALL, "num_registers": 1}, **TABULAR_THEN})
    ds, state = plugin.load(str(tmp / "t.csv"), cfg, None)
    model = JEPA.build(plugin.build_tokenizer(cfg, state), cfg)
    batch = default_collate([ds[i] for i in range(6)])
    out.update(_step(model.train(), batch, 6, "tabular"))
    out.update(_encoder_outputs(model, batch, "tabular"))
    # lidar: BEV tokens with empty cells, the bev masker, empty_weight 0.25, a local window
    torch.manual_seed(1)
    plugin = LidarModality()
    cfg = build_config(plugin.default_config(), {"model": SMALL, "options": LIDAR_OPTIONS, **LIDAR_THEN})
    model = JEPA.build(plugin.build_tokenizer(cfg, {"options": LIDAR_OPTIONS}), cfg)
    clouds = [torch.from_numpy(parking_lot(np.random.default_rng(i))[0]) for i in range(2)]
    clouds[1] = clouds[1][clouds[1][:, 0] < 6.0]
    batch = concat_clouds(clouds)
    assert cfg.objective.loss == "cosine" and cfg.model.attention_window == 1
    out.update(_step(model.train(), batch, 2, "lidar"))
    out.update(_encoder_outputs(model, batch, "lidar"))
    return {k: v.detach().contiguous().cpu() for k, v in out.items()}


def _cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else ``platform.processor()``: two CPUs of one
    architecture can round float sums differently (seen: 1 ulp on an AMD EPYC against the file)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _machine() -> str:
    return f"{platform.machine()}-{_cpu_model()}-{torch.__version__}-{torch.get_num_threads()}"


def test_grid_reference__matches_outputs_before_coords(tmp_path):
    want, got = load_file(str(REFERENCE)), grid_outputs(tmp_path)
    assert sorted(got) == sorted(want)
    for key in want:
        if want[key].is_floating_point():
            torch.testing.assert_close(got[key], want[key], rtol=1e-5, atol=1e-6, msg=key)
        else:
            assert torch.equal(got[key], want[key]), key


def test_grid_reference__bit_identical_here(tmp_path):
    with safe_open(str(REFERENCE), "pt") as f:
        machine = f.metadata().get("machine")
    if machine != _machine():
        pytest.skip(f"reference written on {machine}, this is {_machine()}")
    want, got = load_file(str(REFERENCE)), grid_outputs(tmp_path)
    assert all(torch.equal(got[k], want[k]) for k in want), [k for k in want if not torch.equal(got[k], want[k])]


if __name__ == "__main__":  # pragma: no cover - writes the reference from the current code
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        save_file(grid_outputs(Path(d)), str(REFERENCE), metadata={"machine": _machine()})
    print(f"wrote {REFERENCE}", file=sys.stderr)
