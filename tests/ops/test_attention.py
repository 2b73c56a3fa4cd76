"""Attention dispatch: reference, SDPA path, lengths, JEPA_ATTENTION and the model blocks."""

from __future__ import annotations

import pytest
import torch

from jepa_core.ops import attention as attn
from jepa_core.models.transformer import Block
from tests.helpers import requires_triton_kernels


def _qkv(b=3, h=2, n=11, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randn(b, h, n, d, generator=g) for _ in range(3))


def test_masked_attention_reference__fully_masked_row_is_zero():
    q, k, v = _qkv()
    valid = torch.ones(3, 11, dtype=torch.bool)
    valid[1] = False
    out = attn.masked_attention_reference(q, k, v, valid)
    assert torch.isfinite(out).all() and out[1].abs().max() == 0


def test_sdpa_masked_attention__matches_reference():
    q, k, v = _qkv()
    valid = torch.rand(3, 11, generator=torch.Generator().manual_seed(1)) > 0.4
    valid[2] = False
    torch.testing.assert_close(attn.sdpa_masked_attention(q, k, v, valid),
                               attn.masked_attention_reference(q, k, v, valid), atol=1e-5, rtol=1e-5)


def test_masked_attention__lengths_same_as_mask():
    q, k, v = _qkv()
    lengths = torch.tensor([11, 4, 0])
    mask = torch.arange(11)[None] < lengths[:, None]
    torch.testing.assert_close(attn.masked_attention(q, k, v, lengths), attn.masked_attention(q, k, v, mask))


def test_attention_backend__auto_on_cpu_is_sdpa(monkeypatch):
    monkeypatch.delenv("JEPA_ATTENTION", raising=False)
    assert attn.attention_backend("cpu") == "sdpa"


def test_attention_backend__env_forces_sdpa(monkeypatch):
    monkeypatch.setenv("JEPA_ATTENTION", "sdpa")
    assert attn.attention_backend("cpu") == "sdpa"
    if torch.cuda.is_available():
        assert attn.attention_backend("cuda") == "sdpa"


def test_attention_backend__unknown_env_value_raises(monkeypatch):
    monkeypatch.setenv("JEPA_ATTENTION", "flash")
    with pytest.raises(ValueError, match="JEPA_ATTENTION"):
        attn.attention_backend("cpu")


@requires_triton_kernels
def test_masked_attention__forced_triton_runs_the_kernel(monkeypatch):
    monkeypatch.setenv("JEPA_ATTENTION", "triton")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    assert attn.attention_backend(device) == "triton"
    q, k, v = (t.to(device) for t in _qkv(n=20, d=16))
    valid = (torch.arange(20)[None] < torch.tensor([20, 9, 1])[:, None]).to(device)
    torch.testing.assert_close(attn.masked_attention(q, k, v, valid),
                               attn.masked_attention_reference(q, k, v, valid), atol=2e-5, rtol=1e-4)


@requires_triton_kernels
def test_masked_attention__model_block_goes_through_dispatch(monkeypatch):
    from jepa_core.kernels import masked_attention as kernel_module

    calls = []
    real = kernel_module.masked_attention_triton

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(kernel_module, "masked_attention_triton", spy)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    block = Block(dim=32, heads=2).to(device)
    x = torch.randn(2, 18, 32, device=device)
    valid = (torch.arange(18)[None] < torch.tensor([18, 7])[:, None]).to(device)
    monkeypatch.setenv("JEPA_ATTENTION", "sdpa")
    want = block(x, valid)
    monkeypatch.setenv("JEPA_ATTENTION", "triton")
    got = block(x, valid)
    assert calls, "the block did not reach the Triton kernel"
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_sdpa_masked_attention__per_query_mask_matches_reference():
    q, k, v = _qkv()
    allowed = torch.rand(3, 11, 11, generator=torch.Generator().manual_seed(2)) > 0.5
    allowed[1, 4] = False  # a query with no key
    out = attn.masked_attention(q, k, v, allowed)
    torch.testing.assert_close(out, attn.masked_attention_reference(q, k, v, allowed), atol=1e-5, rtol=1e-5)
    assert out[1, :, 4].abs().max() == 0


def test_masked_attention__per_query_mask_with_equal_rows_is_the_key_mask():
    q, k, v = _qkv()
    valid = torch.rand(3, 11, generator=torch.Generator().manual_seed(3)) > 0.3
    torch.testing.assert_close(attn.masked_attention(q, k, v, valid[:, None].expand(-1, 11, -1)),
                               attn.masked_attention(q, k, v, valid), atol=1e-6, rtol=1e-5)


def test_sdpa_masked_attention__cpu_half_precision_attends_in_float32():
    q, k, v = _qkv()
    valid = torch.rand(3, 11, generator=torch.Generator().manual_seed(1)) > 0.4
    expected = attn.sdpa_masked_attention(q, k, v, valid)
    bq, bk, bv = (t.bfloat16().requires_grad_() for t in (q, k, v))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = attn.sdpa_masked_attention(bq, bk, bv, valid)
    assert out.dtype == torch.bfloat16
    exact = attn.sdpa_masked_attention(bq.detach().float(), bk.detach().float(), bv.detach().float(), valid)
    assert torch.equal(out.detach(), exact.bfloat16())  # float32 attention of the bf16 inputs
    torch.testing.assert_close(out.float(), expected, atol=5e-2, rtol=5e-2)
    out.float().sum().backward()
    assert all(t.grad is not None and t.grad.dtype == torch.bfloat16 for t in (bq, bk, bv))
