import pytest
import torch

from jepa_core.ops.capabilities import compiled_cpu
from jepa_core.ops.gather import gather_tokens, gather_tokens_reference
from tests.helpers import requires_cuda

needs_op = pytest.mark.skipif(not compiled_cpu("gather_tokens"), reason="extension not built")


def _inputs(device="cpu", dtype=torch.float32):
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(3, 10, 5, generator=g, dtype=dtype).to(device)
    idx = torch.randint(0, 10, (3, 7), generator=g).to(device)  # repeats: backward must accumulate
    return tokens, idx


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_gather_tokens__matches_reference_forward_and_backward(dtype):
    tokens, idx = _inputs(dtype=dtype)
    a = tokens.clone().requires_grad_()
    b = tokens.clone().requires_grad_()
    out = gather_tokens(a, idx)
    ref = gather_tokens_reference(b, idx)
    assert torch.equal(out, ref)
    w = torch.randn_like(out)
    out.backward(w)
    ref.backward(w)
    torch.testing.assert_close(a.grad, b.grad)


@needs_op
def test_gather_tokens__opcheck():
    tokens, idx = _inputs(dtype=torch.float64)
    torch.library.opcheck(torch.ops.jepa.gather_tokens, (tokens.requires_grad_(), idx))
    grad = torch.randn(3, 7, 5, dtype=torch.float64)
    torch.library.opcheck(torch.ops.jepa.gather_tokens_backward, (grad, idx, 10))


@needs_op
def test_gather_tokens__gradcheck_and_compile():
    tokens, idx = _inputs(dtype=torch.float64)
    tokens.requires_grad_()
    assert torch.autograd.gradcheck(lambda t: torch.ops.jepa.gather_tokens(t, idx), (tokens,))
    compiled = torch.compile(lambda t, i: torch.ops.jepa.gather_tokens(t, i), backend="eager", fullgraph=True)
    assert torch.equal(compiled(tokens, idx), gather_tokens_reference(tokens, idx))


@needs_op
def test_gather_tokens__torch_compile_inductor_forward_and_backward():
    tokens, idx = _inputs(dtype=torch.float64)
    a, b = tokens.clone().requires_grad_(), tokens.clone().requires_grad_()
    compiled = torch.compile(lambda t, i: torch.ops.jepa.gather_tokens(t, i), fullgraph=True)  # inductor
    out, ref = compiled(a, idx), gather_tokens_reference(b, idx)
    assert torch.equal(out, ref)
    w = torch.randn_like(out)
    out.backward(w)
    ref.backward(w)
    torch.testing.assert_close(a.grad, b.grad)


@needs_op
@pytest.mark.parametrize("call, message", [
    (lambda t, i: torch.ops.jepa.gather_tokens(t[0], i), r"tokens must be \[B, N, D\]"),
    (lambda t, i: torch.ops.jepa.gather_tokens(t, i[:2]), r"idx must be \[B, K\] with B = 3"),
    (lambda t, i: torch.ops.jepa.gather_tokens(t, i.int()), "idx must be int64"),
    (lambda t, i: torch.ops.jepa.gather_tokens_backward(t, i, 10), r"grad must be \[B, K, D\] for idx"),
    (lambda t, i: torch.ops.jepa.gather_tokens_backward(t[:, :7], i, -1), "num_tokens must be >= 0"),
])
def test_gather_tokens__fakes_check_inputs_like_the_kernel(call, message):
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        tokens, idx = torch.empty(3, 10, 5), torch.zeros(3, 7, dtype=torch.long)
        with pytest.raises(RuntimeError, match=message):
            call(tokens, idx)


@needs_op
def test_gather_tokens__bad_inputs_raise():
    tokens, idx = _inputs()
    with pytest.raises(ValueError, match="tokens"):
        gather_tokens(tokens[0], idx)
    with pytest.raises(RuntimeError, match="out of range"):
        torch.ops.jepa.gather_tokens(tokens, idx + 10)


@requires_cuda
def test_gather_tokens__cuda_matches_cpu():
    tokens, idx = _inputs()
    a = tokens.cuda().requires_grad_()
    out = gather_tokens(a, idx.cuda())
    assert torch.equal(out.cpu(), gather_tokens_reference(tokens, idx))
    out.sum().backward()
    b = tokens.clone().requires_grad_()
    gather_tokens_reference(b, idx).sum().backward()
    torch.testing.assert_close(a.grad.cpu(), b.grad)
