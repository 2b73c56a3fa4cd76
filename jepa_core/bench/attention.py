"""Masked-attention benchmark: the fused Triton kernel against eager masked attention,
SDPA with a boolean mask, SDPA's flash path (every key valid) and compiled FlexAttention.

``run`` times forward and forward+backward for ``B x H = 32 x 12``, ``Dh = 64``, bf16,
``N`` in {196, 576, 1024, 2048, 4096} and a fraction of valid keys in {1.0, 0.75, 0.25}
(each sample a valid prefix of ``round(frac * N)`` keys, then padding, as the JEPA
collators lay out ragged sets). TFLOP/s count only the valid keys
(``4 * B * H * N * N_valid * Dh`` forward, 3.5x that forward+backward); peak memory is
what one forward+backward allocates beyond its inputs. Writes ``attention.json`` and
``attention.png``.

On a CPU there is no Triton kernel to time (the interpreter is a correctness tool) and no
flash path: a small fp32 configuration compares eager and SDPA only, labelled as such.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor

from ..ops.attention import attention_backend, sdpa_masked_attention

FULL = dict(batch=32, heads=12, head_dim=64, sizes=[196, 576, 1024, 2048, 4096], fracs=[1.0, 0.75, 0.25],
            dtype="bfloat16")
QUICK = dict(FULL, sizes=[196, 1024], fracs=[1.0, 0.25])
CPU = dict(batch=4, heads=4, head_dim=64, sizes=[196, 576], fracs=[1.0, 0.25], dtype="float32")
CPU_QUICK = dict(CPU, sizes=[196])
# The goals on an H100: (method, baseline, min ratio of baseline time to ours, when).
GOALS = [("triton", "eager", 3.0, "N >= 1024, 25% valid"), ("triton", "flex", 1.0, "N >= 1024, 25% valid, fwd+bwd"),
         ("triton", "sdpa_flash", 0.9, "all keys valid")]


def eager_masked_attention(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor) -> Tensor:
    """Plain masked attention in the input dtype: scores, ``masked_fill``, softmax, matmul."""
    scores = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
    scores = scores.masked_fill(~key_valid[:, None, None, :], float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def _methods(device: torch.device, frac: float) -> dict[str, Callable]:
    """Name -> ``make(q, k, v, key_valid) -> (fn() -> Tensor)``; the builder does one-off setup."""
    methods = {
        "eager": lambda q, k, v, m: (lambda: eager_masked_attention(q, k, v, m)),
        "sdpa_mask": lambda q, k, v, m: (lambda: sdpa_masked_attention(q, k, v, m)),
    }
    if device.type == "cuda":
        from ..kernels.masked_attention import masked_attention_triton
        methods["triton"] = lambda q, k, v, m: (lambda: masked_attention_triton(q, k, v, m))
        methods["flex"] = _flex
        if frac == 1.0:
            methods["triton_nomask"] = lambda q, k, v, m: (lambda: masked_attention_triton(q, k, v, None))
            methods["sdpa_flash"] = lambda q, k, v, m: (
                lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v))
    return methods


_FLEX = {}


def _flex(q: Tensor, k: Tensor, v: Tensor, key_valid: Tensor) -> Callable[[], Tensor]:
    """Compiled FlexAttention with a block mask built from ``key_valid`` (built once here)."""
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    if "fn" not in _FLEX:
        # One graph per shape and mask function: room for every configuration of the sweep.
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
        _FLEX["fn"] = torch.compile(flex_attention, dynamic=False)

    def mask_mod(b, h, q_idx, kv_idx):
        return key_valid[b, kv_idx]

    block_mask = create_block_mask(mask_mod, q.shape[0], None, q.shape[2], k.shape[2], device=q.device)
    return lambda: _FLEX["fn"](q, k, v, block_mask=block_mask)


def _timer(device: torch.device, reps: int) -> Callable[[Callable[[], object]], float]:
    def cpu_time(fn):
        fn()
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best

    def cuda_time(fn):
        for _ in range(3):
            fn()
        torch.cuda.synchronize()
        times = []
        for _ in range(reps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        return sorted(times)[len(times) // 2]

    return cuda_time if device.type == "cuda" else cpu_time


def _measure(make: Callable, q: Tensor, k: Tensor, v: Tensor, valid: Tensor, timer, device) -> dict:
    fwd = make(q, k, v, valid)
    grad = torch.randn_like(q)

    def fwd_bwd():
        torch.autograd.grad(fwd(), (q, k, v), grad)

    def no_grad_fwd():
        with torch.no_grad():
            fwd()

    row = dict(fwd_s=timer(no_grad_fwd), fwd_bwd_s=timer(fwd_bwd))
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        fwd_bwd()
        torch.cuda.synchronize()
        row["peak_mib"] = (torch.cuda.max_memory_allocated() - base) / 2**20
    return row


def run(device: str, out_dir: Path, quick: bool = False) -> dict:
    """Time the masked-attention paths on ``device``; write ``attention.json`` + ``attention.png``.

    Args:
        device: ``"cuda"`` for the real comparison, ``"cpu"`` for an eager-vs-SDPA sanity run.
        out_dir: where the results go (created if missing).
        quick: fewer sizes and repetitions (a smoke run).

    Returns:
        The results written to ``attention.json``.
    """
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but no CUDA device is available")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = (QUICK if quick else FULL) if dev.type == "cuda" else (CPU_QUICK if quick else CPU)
    dtype = getattr(torch, cfg["dtype"])
    timer = _timer(dev, 3 if quick or dev.type == "cpu" else 10)
    rows = []
    gen = torch.Generator(device=dev).manual_seed(0)
    for n in cfg["sizes"]:
        for frac in cfg["fracs"]:
            shape = (cfg["batch"], cfg["heads"], n, cfg["head_dim"])
            q, k, v = (torch.randn(shape, device=dev, dtype=dtype, generator=gen).requires_grad_() for _ in range(3))
            n_valid = max(1, round(frac * n))
            valid = (torch.arange(n, device=dev) < n_valid).expand(cfg["batch"], n).contiguous()
            flops = 4 * cfg["batch"] * cfg["heads"] * n * n_valid * cfg["head_dim"]
            for name, make in _methods(dev, frac).items():
                try:
                    row = _measure(make, q, k, v, valid, timer, dev)
                except torch.OutOfMemoryError:
                    row = dict(fwd_s=None, fwd_bwd_s=None, error="out of memory")
                    torch.cuda.empty_cache()
                if row.get("fwd_s"):
                    row["fwd_tflops"] = flops / row["fwd_s"] / 1e12
                    row["fwd_bwd_tflops"] = 3.5 * flops / row["fwd_bwd_s"] / 1e12
                rows.append(dict(method=name, n=n, frac=frac, n_valid=n_valid, **row))
    result = dict(benchmark="attention", device=str(dev), backend=attention_backend(dev), torch=torch.__version__,
                  machine=platform.machine(), quick=quick, config=cfg, rows=rows)
    if dev.type == "cuda":
        result["gpu"] = torch.cuda.get_device_name()
        result["goals"] = _goals(rows)
    else:
        result["note"] = ("CPU sanity run: eager vs SDPA only, fp32, small batch. The Triton kernel and "
                          "FlexAttention are timed on CUDA only; GPU numbers come from --device cuda.")
    (out_dir / "attention.json").write_text(json.dumps(result, indent=2))
    _plot(result, out_dir / "attention.png")
    return result


def _goals(rows: list[dict]) -> list[dict]:
    """Speed ratios (baseline time / kernel time) for the cases the issue sets goals on."""
    def time_of(method, n, frac, key):
        return next((r.get(key) for r in rows if (r["method"], r["n"], r["frac"]) == (method, n, frac)), None)

    out = []
    for ours, base, target, when in GOALS:
        cases = [(r["n"], r["frac"]) for r in rows if r["method"] == ours
                 and ((r["frac"] == 0.25 and r["n"] >= 1024) if "25%" in when else r["frac"] == 1.0)]
        keys = ["fwd_bwd_s"] if "fwd+bwd" in when else ["fwd_s", "fwd_bwd_s"]
        for n, frac in cases:
            for key in keys:
                a, b = time_of(ours, n, frac, key), time_of(base, n, frac, key)
                if a and b:
                    out.append(dict(vs=base, n=n, frac=frac, timing=key.replace("_s", ""), ratio=b / a,
                                    target=target, met=b / a >= target))
    return out


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fracs = result["config"]["fracs"]
    fig, axes = plt.subplots(2, len(fracs), figsize=(4.5 * len(fracs), 7), squeeze=False)
    methods = sorted({r["method"] for r in result["rows"]})
    for col, frac in enumerate(fracs):
        for row, (key, label) in enumerate((("fwd_tflops", "forward"), ("fwd_bwd_tflops", "forward+backward"))):
            ax = axes[row][col]
            for m in methods:
                pts = [(r["n"], r[key]) for r in result["rows"] if r["method"] == m and r["frac"] == frac and r.get(key)]
                if pts:
                    ax.plot(*zip(*pts), marker="o", label=m)
            ax.set(xscale="log", xlabel="N tokens", ylabel="TFLOP/s (valid keys)",
                   title=f"{label}, {int(frac * 100)}% valid, {result.get('gpu', result['device'])}")
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
