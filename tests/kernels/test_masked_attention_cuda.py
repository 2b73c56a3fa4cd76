"""Fused masked attention on a GPU: fp16/bf16 at real sizes, fp64 refusal, opcheck,
``torch.compile`` through the triton_op, auto dispatch and memory (CUDA only)."""

from __future__ import annotations

import pytest
import torch

from jepa_core.ops import attention as attn
from tests.helpers import requires_cuda

pytestmark = [requires_cuda, pytest.mark.skipif(not attn.triton_available(), reason="needs Triton")]


def _kernel():
    from jepa_core.kernels.masked_attention import masked_attention_triton
    return masked_attention_triton


def _inputs(b, h, n, d, dtype, frac, seed=0):
    g = torch.Generator(device="cuda").manual_seed(seed)
    q, k, v = (torch.randn(b, h, n, d, device="cuda", dtype=dtype, generator=g).requires_grad_() for _ in range(3))
    lengths = torch.tensor([n, max(1, int(n * frac)), 1, 0][:b], device="cuda")
    valid = torch.arange(n, device="cuda")[None] < lengths[:, None]
    return q, k, v, valid


def _errors(out, grads, ref, ref_grads):
    return [(a.float() - b).abs().max().item() for a, b in zip((out, *grads), (ref, *ref_grads))]


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("n,d", [(197, 64), (1024, 64), (577, 128), (300, 80)])
def test_masked_attention_cuda__low_precision_real_sizes(dtype, n, d):
    q, k, v, valid = _inputs(4, 6, n, d, dtype, 0.25)
    grad = torch.randn_like(q)
    out = _kernel()(q, k, v, valid)
    grads = torch.autograd.grad(out, (q, k, v), grad)
    q32, k32, v32 = (t.detach().float().requires_grad_() for t in (q, k, v))
    ref = attn.masked_attention_reference(q32, k32, v32, valid)
    ref_grads = torch.autograd.grad(ref, (q32, k32, v32), grad.float())
    # The kernel's error against the fp32 truth should be no worse than SDPA's in the same dtype.
    sd = attn.sdpa_masked_attention(q, k, v, valid)
    sd_grads = torch.autograd.grad(sd, (q, k, v), grad)
    ours, theirs = _errors(out, grads, ref, ref_grads), _errors(sd, sd_grads, ref, ref_grads)
    for name, e, s in zip(("out", "dq", "dk", "dv"), ours, theirs):
        assert e <= 2 * s + 2e-3, f"{name}: kernel error {e:.2e} vs SDPA {s:.2e}"
    assert out[3].abs().max() == 0 and grads[0][3].abs().max() == 0


def test_masked_attention_cuda__fp32_matches_reference():
    q, k, v, valid = _inputs(3, 4, 333, 64, torch.float32, 0.5)
    out = _kernel()(q, k, v, valid)
    torch.testing.assert_close(out, attn.masked_attention_reference(q, k, v, valid), atol=1e-4, rtol=1e-4)


def test_masked_attention_cuda__fp64_is_refused_and_dispatch_falls_back():
    # Triton 3.6 cannot compile an fp64 tl.dot for sm_90 (it aborts), so the kernel refuses
    # fp64 on CUDA and auto dispatch uses SDPA; the fp64 gradcheck runs in the interpreter.
    q, k, v, valid = _inputs(3, 2, 37, 16, torch.float64, 0.5)
    with pytest.raises(TypeError, match="float64"):
        _kernel()(q, k, v, valid)
    torch.testing.assert_close(attn.masked_attention(q, k, v, valid), attn.masked_attention_reference(q, k, v, valid))


def test_masked_attention_cuda__opcheck():
    _kernel()  # registers the ops
    q, k, v, valid = _inputs(2, 2, 70, 32, torch.float16, 0.5)
    torch.library.opcheck(torch.ops.jepa_triton.masked_attention_fwd.default, (q, k, v, valid, 0.125))


def test_masked_attention_cuda__torch_compile_traces_through():
    q, k, v, valid = _inputs(2, 4, 260, 64, torch.bfloat16, 0.5)
    compiled = torch.compile(lambda a, b, c, m: _kernel()(a, b, c, m), fullgraph=True)
    out = compiled(q, k, v, valid)
    eager = _kernel()(q, k, v, valid)
    torch.testing.assert_close(out, eager)
    got = torch.autograd.grad(out.float().sum(), (q, k, v))
    want = torch.autograd.grad(eager.float().sum(), (q, k, v))
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b)


def test_masked_attention_cuda__auto_dispatch_uses_kernel(monkeypatch):
    monkeypatch.delenv("JEPA_ATTENTION", raising=False)
    assert attn.attention_backend("cuda") == "triton"
    from jepa_core.models.transformer import Transformer
    model = Transformer(dim=128, depth=2, heads=2).cuda()
    x = torch.randn(2, 100, 128, device="cuda")
    valid = torch.arange(100, device="cuda")[None] < torch.tensor([[100], [30]], device="cuda")
    out = torch.compile(model, fullgraph=True)(x, valid)
    out.sum().backward()
    assert torch.isfinite(out).all()


def test_masked_attention_cuda__memory_is_linear_in_n():
    n = 4096
    q, k, v, valid = _inputs(2, 4, n, 64, torch.float16, 0.5)
    _kernel()(q, k, v, valid).sum().backward()  # warm up (autotune)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    _kernel()(q, k, v, valid).sum().backward()
    extra = torch.cuda.max_memory_allocated() - base
    scores = 2 * 4 * n * n * 2  # one fp16 score matrix
    assert extra < scores / 4, f"{extra / 2**20:.0f} MiB extra, an N x N matrix is {scores / 2**20:.0f} MiB"
