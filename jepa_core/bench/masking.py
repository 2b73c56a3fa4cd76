"""Masking benchmark: the compiled op against the pure-PyTorch reference and an
I-JEPA-style per-sample Python collator (written here for the comparison).

``run`` times one batch of multiblock masks (4 targets) for batch 64/256/1024 on 14x14,
16x16 and 8x14x14 grids and writes ``masking.json`` and ``masking.png``. On CUDA it also
checks that the CUDA op returns the CPU masks bit for bit.
"""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path
from typing import Callable

import torch

from ..ops import masking as ops

KW = dict(num_targets=4, target_scale=(0.15, 0.2), target_aspect=(0.75, 1.5),
          context_scale=(0.85, 1.0), context_aspect=(1.0, 1.0), min_keep=4)
GRIDS = [(14, 14), (16, 16), (8, 14, 14)]
BATCHES = [64, 256, 1024]


def ijepa_style_collator(batch_size: int, grid: tuple[int, ...], generator: torch.Generator) -> tuple:
    """Per-sample Python mask sampling as in the reference collators (for timing only).

    Block size per batch, then for each sample a loop over targets with ``randint`` and a
    retry loop, a context block minus the targets, and finally every mask cut to the
    shortest one in the batch (the raster-order prefix truncation this project avoids).
    """
    t, h, w = (1,) + grid if len(grid) == 2 else grid

    def size(scale, aspect):
        s = scale[0] + float(torch.rand(1, generator=generator)) * (scale[1] - scale[0])
        a = aspect[0] + float(torch.rand(1, generator=generator)) * (aspect[1] - aspect[0])
        keep = int(h * w * s)
        bh, bw = int(round(math.sqrt(keep * a))), int(round(math.sqrt(keep / a)))
        return min(bh, h - 1), min(bw, w - 1)

    def block(bh, bw, allowed=None):
        for _ in range(20):
            top = int(torch.randint(0, h - bh, (1,), generator=generator))
            left = int(torch.randint(0, w - bw, (1,), generator=generator))
            mask = torch.zeros((t, h, w), dtype=torch.int32)
            mask[:, top:top + bh, left:left + bw] = 1
            if allowed is not None:
                mask *= allowed
            idx = torch.nonzero(mask.flatten()).squeeze()
            if idx.numel() > KW["min_keep"]:
                return idx, mask
        return idx, mask

    th, tw = size(KW["target_scale"], KW["target_aspect"])
    ch, cw = size(KW["context_scale"], KW["context_aspect"])
    ctx_all, tgt_all = [], []
    for _ in range(batch_size):
        allowed = torch.ones((t, h, w), dtype=torch.int32)
        targets = []
        for _ in range(KW["num_targets"]):
            idx, mask = block(th, tw)
            targets.append(idx)
            allowed *= 1 - mask
        ctx, _ = block(ch, cw, allowed)
        ctx_all.append(ctx)
        tgt_all.append(targets)
    kc = min(c.numel() for c in ctx_all)
    kt = min(x.numel() for ts in tgt_all for x in ts)
    ctx = torch.stack([c[:kc] for c in ctx_all])
    tgt = torch.stack([torch.stack([x[:kt] for x in ts]) for ts in tgt_all])
    return ctx, tgt


def _time(fn: Callable[[], object], sync: Callable[[], None], budget_s: float, max_reps: int) -> float:
    """Best (minimum) seconds per call over up to ``max_reps`` calls within about ``budget_s``.

    The minimum, not the median: on a shared machine the other processes only ever add time.
    """
    fn()
    sync()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (not times or time.perf_counter() - start < budget_s):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return min(times)


def _cuda_equality() -> dict:
    checks = {}
    for grid in GRIDS:
        ids = torch.arange(10_000, 10_256)
        cpu = ops.multiblock_masks(256, grid, seed=1, step=3, sample_ids=ids, device="cpu", **KW)
        gpu = ops.multiblock_masks(256, grid, seed=1, step=3, sample_ids=ids, device="cuda", **KW)
        checks["x".join(map(str, grid))] = all(
            torch.equal(getattr(cpu, n), getattr(gpu, n).cpu())
            for n in ("context_idx", "context_valid", "target_idx", "target_valid"))
    return checks


def run(device: str, out_dir: Path, quick: bool = False) -> dict:
    """Time (best of several calls) the masking paths on ``device`` and write ``masking.json`` + ``masking.png``.

    Args:
        device: ``"cpu"`` or ``"cuda"``.
        out_dir: where the results go (created if missing).
        quick: fewer sizes and repetitions (a smoke run).

    Returns:
        The results written to ``masking.json``.
    """
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    budget, reps = (0.2, 3) if quick else (1.0, 20)
    grids = GRIDS[:1] if quick else GRIDS
    batches = BATCHES[:2] if quick else BATCHES
    rows = []
    gen = torch.Generator().manual_seed(0)
    for grid in grids:
        for b in batches:
            step = iter(range(1 << 30))
            op_s = _time(lambda: ops.multiblock_masks(b, grid, seed=0, step=next(step), device=dev, **KW),
                         sync, budget, reps * 5)
            ref_s = _time(lambda: ops.multiblock_masks(b, grid, seed=0, step=next(step), device=dev,
                                                       backend="reference", **KW),
                          sync, budget, reps)
            col_s = _time(lambda: ijepa_style_collator(b, grid, gen), lambda: None, budget, reps)
            rows.append(dict(grid=list(grid), batch=b, op_us=op_s * 1e6, reference_us=ref_s * 1e6,
                             collator_us=col_s * 1e6, speedup_vs_reference=ref_s / op_s,
                             speedup_vs_collator=col_s / op_s))
    result = dict(benchmark="masking", device=str(dev), backend=ops.masking_backend(dev),
                  torch=torch.__version__, threads=torch.get_num_threads(), machine=platform.machine(),
                  quick=quick, num_targets=KW["num_targets"], rows=rows)
    if dev.type == "cuda":
        result["cuda_equals_cpu"] = _cuda_equality()
        result["gpu"] = torch.cuda.get_device_name()
    (out_dir / "masking.json").write_text(json.dumps(result, indent=2))
    _plot(result, out_dir / "masking.png")
    return result


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grids = sorted({tuple(r["grid"]) for r in result["rows"]}, key=lambda g: (len(g), g))
    fig, axes = plt.subplots(1, len(grids), figsize=(4.5 * len(grids), 3.8), squeeze=False)
    for ax, grid in zip(axes[0], grids):
        rows = [r for r in result["rows"] if tuple(r["grid"]) == grid]
        x = [r["batch"] for r in rows]
        for key, label in (("op_us", f"jepa op ({result['backend']})"), ("reference_us", "torch reference"),
                           ("collator_us", "I-JEPA-style collator")):
            ax.plot(x, [r[key] for r in rows], marker="o", label=label)
        ax.set(xscale="log", yscale="log", xlabel="batch", ylabel="µs per batch",
               title=f"multiblock {'x'.join(map(str, grid))}, {result['device']}")
        ax.set_xticks(x, [str(v) for v in x])
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
