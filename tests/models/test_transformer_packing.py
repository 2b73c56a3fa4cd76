import pytest
import torch

from jepa_core.models.transformer import Packing, Transformer


def _ragged(b: int, n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    valid = torch.rand(b, n, generator=g) < 0.6
    valid[:, 0] = True
    valid[-1] = False  # a sample with no valid token at all
    return valid


def _run(t: Transformer, x: torch.Tensor, valid: torch.Tensor, pack: bool, out_from: int = 0):
    t.pack_below = 1.0 if pack else -1.0
    out = t(x, valid, out_from=out_from)
    keep = valid[:, out_from:, None]
    grad, = torch.autograd.grad((out * keep).square().sum(), x)
    return out * keep, grad


@pytest.mark.parametrize("out_from", [0, 7])
def test_transformer__packed_equals_padded_on_valid_tokens(out_from):
    torch.manual_seed(0)
    t = Transformer(32, 3, 4).double()
    x = torch.randn(5, 12, 32, dtype=torch.float64, requires_grad=True)
    valid = _ragged(5, 12)
    packed, g_packed = _run(t, x, valid, pack=True, out_from=out_from)
    padded, g_padded = _run(t, x, valid, pack=False)
    torch.testing.assert_close(packed, padded[:, out_from:])
    # out_from only drops outputs, so the gradient of the kept ones is unchanged
    _, g_sliced = _run(t, x, valid, pack=False, out_from=out_from)
    torch.testing.assert_close(g_packed, g_sliced)
    assert packed.shape == (5, 12 - out_from, 32)


def test_transformer__packs_only_ragged_cpu_batches():
    t = Transformer(8, 1, 2)
    x = torch.randn(2, 4, 8)
    assert not t._packs(x, torch.ones(2, 4, dtype=torch.bool), None)  # nothing to skip
    assert t._packs(x, torch.tensor([[True, True, False, False]] * 2), None)
    assert not t._packs(x, torch.ones(2, 4, 4, dtype=torch.bool), None)  # per-query masks
    assert not Transformer(8, 1, 2, cond_dim=3)._packs(x, torch.tensor([[True, False] * 2] * 2), None)


def test_packing__round_trip_zeros_padding():
    valid = torch.tensor([[True, False, True], [False, False, True]])
    p = Packing(valid)
    x = torch.arange(6.0).view(2, 3, 1)
    assert p.pack(x).flatten().tolist() == [0.0, 2.0, 5.0]
    assert p.unpack(p.pack(x)).flatten().tolist() == [0.0, 0.0, 2.0, 0.0, 0.0, 5.0]


def test_transformer__compiles_without_a_graph_break_on_ragged_cpu_batches():
    torch.manual_seed(0)
    t = Transformer(16, 2, 2).eval()
    x, valid = torch.randn(3, 10, 16), _ragged(3, 10)
    assert t._packs(x, valid, None)  # eager packs this batch
    explained = torch._dynamo.explain(t)(x, valid)
    assert explained.graph_break_count == 0, explained.break_reasons
    with torch.no_grad():
        eager = t(x, valid)
        traced = torch.compile(t, backend="eager", fullgraph=True)(x, valid)
    keep = valid[..., None]
    torch.testing.assert_close(traced * keep, eager * keep, rtol=1e-5, atol=1e-6)
