"""Fused masked-attention kernel against the eager reference (fp32, small shapes).

On a CPU these run in Triton's interpreter: ``TRITON_INTERPRET=1 pytest tests/kernels``.
"""

from __future__ import annotations

import pytest
import torch

from jepa_core.ops.attention import masked_attention_reference
from tests.helpers import kernel_device, requires_triton_kernels

pytestmark = requires_triton_kernels
DEVICE = kernel_device()


def _kernel():
    from jepa_core.kernels.masked_attention import masked_attention_triton
    return masked_attention_triton


def _qkv(b, h, n_q, n_k, d, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    make = lambda n: torch.randn(b, h, n, d, generator=g, dtype=dtype).to(DEVICE).requires_grad_()  # noqa: E731
    return make(n_q), make(n_k), make(n_k)


def _lengths_mask(lengths, n):
    return (torch.arange(n)[None, :] < torch.tensor(lengths)[:, None]).to(DEVICE)


def _check(q, k, v, valid, atol=2e-5, rtol=1e-4, scale=None):
    """Forward and all three gradients of the kernel match the reference."""
    out = _kernel()(q, k, v, valid, scale)
    ref = masked_attention_reference(q, k, v, valid, scale)
    torch.testing.assert_close(out, ref, atol=atol, rtol=rtol)
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, (q, k, v), grad)
    want = torch.autograd.grad(ref, (q, k, v), grad)
    for name, g_got, g_want in zip("qkv", got, want):
        assert torch.isfinite(g_got).all(), f"d{name} has non-finite values"
        torch.testing.assert_close(g_got, g_want, atol=atol * 10, rtol=rtol * 10, msg=f"d{name} differs")
    return out, got


def test_masked_attention__ragged_lengths_one_valid_key():
    q, k, v = _qkv(3, 2, 37, 37, 16)
    _check(q, k, v, _lengths_mask([37, 20, 1], 37))


def test_masked_attention__fully_masked_row_gives_zeros():
    q, k, v = _qkv(2, 2, 21, 21, 16)
    with torch.no_grad():
        k[1] *= 1e3  # large values where nothing is valid must not leak or overflow
    valid = _lengths_mask([21, 0], 21)
    out, (dq, dk, dv) = _check(q, k, v, valid)
    assert out[1].abs().max() == 0
    assert dq[1].abs().max() == 0 and dk[1].abs().max() == 0 and dv[1].abs().max() == 0


def test_masked_attention__scattered_mask_with_empty_blocks():
    q, k, v = _qkv(2, 1, 50, 50, 16, seed=1)
    valid = torch.rand(2, 50, generator=torch.Generator().manual_seed(3)) > 0.5
    valid[:, 16:40] = False  # whole key blocks with nothing valid are skipped
    valid[1, 49] = True
    _check(q, k, v, valid.to(DEVICE))


def test_masked_attention__no_mask_matches_plain_softmax():
    q, k, v = _qkv(1, 2, 33, 33, 16, seed=2)
    _check(q, k, v, None)


def test_masked_attention__queries_and_keys_of_different_lengths():
    q, k, v = _qkv(2, 2, 9, 40, 16, seed=4)
    _check(q, k, v, _lengths_mask([40, 17], 40), scale=0.3)


@pytest.mark.parametrize("head_dim", [8, 24, 64])
def test_masked_attention__head_dims(head_dim):
    q, k, v = _qkv(1, 1, 19, 19, head_dim, seed=head_dim)
    _check(q, k, v, _lengths_mask([12], 19))


def test_masked_attention__strided_inputs_from_a_projection():
    b, n, h, d = 2, 18, 2, 16
    qkv = torch.randn(b, n, 3, h, d).to(DEVICE).requires_grad_()
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    assert not q.is_contiguous()
    out = _kernel()(q, k, v, _lengths_mask([18, 5], n))
    ref = masked_attention_reference(q, k, v, _lengths_mask([18, 5], n))
    torch.testing.assert_close(out, ref, atol=2e-5, rtol=1e-4)
    got, = torch.autograd.grad(out.sum(), qkv)
    want, = torch.autograd.grad(ref.sum(), qkv)
    torch.testing.assert_close(got, want, atol=2e-4, rtol=1e-3)


def test_masked_attention__fp16_accumulates_in_fp32():
    q, k, v = _qkv(2, 1, 24, 24, 16, dtype=torch.float16, seed=5)
    valid = _lengths_mask([24, 7], 24)
    out = _kernel()(q, k, v, valid)
    assert out.dtype == torch.float16
    ref = masked_attention_reference(q.float(), k.float(), v.float(), valid)
    torch.testing.assert_close(out.float(), ref, atol=2e-3, rtol=2e-3)


def test_masked_attention__gradcheck_fp64():
    q, k, v = _qkv(2, 1, 6, 6, 4, dtype=torch.float64, seed=6)
    valid = _lengths_mask([4, 0], 6)
    assert torch.autograd.gradcheck(lambda a, b, c: _kernel()(a, b, c, valid), (q, k, v), fast_mode=True)


def test_masked_attention__saves_only_linear_statistics():
    n = 32
    q, k, v = _qkv(1, 1, n, n, 16)
    saved = []

    def pack(t):
        saved.append(tuple(t.shape))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _kernel()(q, k, v, _lengths_mask([20], n))
    assert saved, "nothing saved for backward"
    assert all(shape.count(n) <= 1 for shape in saved), f"an N x N tensor was saved: {saved}"


def test_masked_attention__rejects_bad_inputs():
    attn = _kernel()
    q, k, v = _qkv(2, 1, 5, 5, 16)
    with pytest.raises(ValueError, match=r"\[B, H, N, Dh\]"):
        attn(q[0], k[0], v[0])
    with pytest.raises(TypeError, match="share a dtype"):
        attn(q, k.double(), v)
    with pytest.raises(ValueError, match=r"key_valid must be \[B, Nk\]"):
        attn(q, k, v, torch.ones(2, 4, dtype=torch.bool, device=DEVICE))
    with pytest.raises(TypeError, match="bool"):
        attn(q, k, v, torch.ones(2, 5, device=DEVICE))
    big = torch.randn(1, 1, 4, 256, device=DEVICE)
    with pytest.raises(ValueError, match="head dim"):
        attn(big, big, big)
    with pytest.raises(ValueError, match="same shape"):
        attn(q, k, v[:, :, :3])
