import math

import pytest
import torch

from jepa_core.ops import masking as ops
from jepa_core.ops.capabilities import compiled_cpu
from tests.helpers import assert_masksets_equal, check_maskset, reference_masking, requires_cuda

reference = reference_masking()

needs_op = pytest.mark.skipif(not compiled_cpu("multiblock_masks"), reason="extension not built")

KW = dict(num_targets=4, target_scale=(0.15, 0.2), target_aspect=(0.75, 1.5),
          context_scale=(0.85, 1.0), context_aspect=(1.0, 1.0), min_keep=4)
GRIDS = [(50,), (14, 14), (4, 8, 8)]


def _valid(b, grid, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, math.prod(grid), generator=g) > 0.3


@needs_op
@pytest.mark.parametrize("grid", GRIDS)
@pytest.mark.parametrize("with_valid", [False, True])
def test_multiblock_op__equals_reference(grid, with_valid):
    valid = _valid(12, grid) if with_valid else None
    ids = torch.arange(100, 112)
    for step in (0, 1, 1 << 33):
        kw = dict(seed=-7, step=step, token_valid=valid, sample_ids=ids, temporal_scale=(0.5, 1.0), **KW)
        got = ops.multiblock_masks(12, grid, **kw)
        assert_masksets_equal(got, reference.multiblock_masks(12, grid, **kw))
        check_maskset(got, math.prod(grid), token_valid=valid)


@needs_op
def test_multiblock_op__allow_overlap_and_tight_min_keep_equal_reference():
    valid = _valid(8, (6, 6), seed=1)
    kw = dict(seed=1, token_valid=valid, **{**KW, "min_keep": 6, "target_scale": (0.2, 0.3)})
    for overlap in (False, True):
        assert_masksets_equal(ops.multiblock_masks(8, (6, 6), allow_overlap=overlap, **kw),
                              reference.multiblock_masks(8, (6, 6), allow_overlap=overlap, **kw))


@needs_op
@pytest.mark.parametrize("grid", [(13,), (5, 7)])
@pytest.mark.parametrize("with_valid", [False, True])
def test_random_subset_op__equals_reference(grid, with_valid):
    valid = _valid(9, grid) if with_valid else None
    if valid is not None:
        valid[0] = False
        valid[1, 1:] = False
    kw = dict(context_ratio=0.45, target_ratio=0.3, seed=11, step=4, token_valid=valid)
    got = ops.random_subset_masks(9, grid, **kw)
    assert_masksets_equal(got, reference.random_subset_masks(9, grid, **kw))
    check_maskset(got, math.prod(grid), token_valid=valid)


@needs_op
@pytest.mark.parametrize("random_span", [False, True])
def test_temporal_op__equals_reference(random_span):
    valid = _valid(6, (5, 2, 3))
    for tv in (None, valid):
        kw = dict(frames=2, seed=3, step=2, random_span=random_span, token_valid=tv)
        assert_masksets_equal(ops.temporal_masks(6, (5, 2, 3), **kw),
                              reference.temporal_masks(6, (5, 2, 3), **kw))


def _op_calls():
    ids = torch.arange(4)
    valid = _valid(4, (6, 6))
    return [
        (torch.ops.jepa.multiblock_masks, (ids, None, [6, 6], 2, [2, 3], [5, 5], 2, False, 0, 1)),
        (torch.ops.jepa.multiblock_masks, (ids, valid, [6, 6], 2, [2, 3], [5, 5], 2, True, 5, 2)),
        (torch.ops.jepa.multiblock_masks, (ids, None, [3, 4, 4], 1, [2, 2, 2], [3, 3, 3], 1, False, 0, 0)),
        (torch.ops.jepa.random_subset_masks, (ids, valid, 36, 0.5, 0.25, 1, 2)),
        (torch.ops.jepa.temporal_masks, (ids, None, 6, 6, 2, True, 1, 2)),
    ]


@needs_op
def test_masking_ops__opcheck():
    for op, args in _op_calls():
        torch.library.opcheck(op, args)


@needs_op
def test_masking_ops__torch_compile_fullgraph():
    for op, args in _op_calls():
        compiled = torch.compile(lambda *a, op=op: op(*a), backend="eager", fullgraph=True)
        for x, y in zip(compiled(*args), op(*args)):
            assert torch.equal(x, y)


@needs_op
def test_masking_ops__torch_compile_inductor():
    """The default backend: the ops stay extern calls, traced through their fakes."""
    ids, valid = torch.arange(4), _valid(4, (6, 6))

    def draw(ids, valid):
        return (*torch.ops.jepa.multiblock_masks(ids, valid, [6, 6], 2, [2, 3], [5, 5], 2, False, 0, 1),
                *torch.ops.jepa.random_subset_masks(ids, valid, 36, 0.5, 0.25, 1, 2),
                *torch.ops.jepa.temporal_masks(ids, None, 6, 6, 2, True, 1, 2))

    compiled = torch.compile(draw, fullgraph=True)  # backend="inductor"
    for x, y in zip(compiled(ids, valid), draw(ids, valid)):
        assert torch.equal(x, y)


@needs_op
@pytest.mark.parametrize("call, message", [
    (lambda ids, v: torch.ops.jepa.random_subset_masks(ids, v[:, :5], 36, 0.5, 0.25, 1, 2),
     r"token_valid must be \[4, 36\], got \(4, 5\)"),
    (lambda ids, v: torch.ops.jepa.random_subset_masks(ids.int(), v, 36, 0.5, 0.25, 1, 2),
     "sample_ids must be a 1-D int64 tensor"),
    (lambda ids, v: torch.ops.jepa.multiblock_masks(ids, None, [4, 4], 1, [5, 1], [2, 2], 1, False, 0, 0),
     "block shapes must fit the grid"),
    (lambda ids, v: torch.ops.jepa.multiblock_masks(ids, None, [4, 4], 40, [1, 1], [2, 2], 1, False, 0, 0),
     r"num_targets must be in \[1, 32\]"),
    (lambda ids, v: torch.ops.jepa.temporal_masks(ids, None, 3, 2, 3, False, 0, 0), "1 <= frames < num_frames"),
])
def test_masking_ops__fakes_check_inputs_like_the_kernels(call, message):
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():  # runs the fake kernels, as torch.compile does while tracing
        ids, valid = torch.arange(4), torch.ones(4, 36, dtype=torch.bool)
        with pytest.raises(RuntimeError, match=message):
            call(ids, valid)


@needs_op
def test_masking_ops__kernel_checks_raise():
    ids = torch.arange(4)
    with pytest.raises(RuntimeError, match="fit the grid"):
        torch.ops.jepa.multiblock_masks(ids, None, [4, 4], 1, [5, 1], [2, 2], 1, False, 0, 0)
    with pytest.raises(RuntimeError, match="token_valid"):
        torch.ops.jepa.temporal_masks(ids, torch.ones(4, 3, dtype=torch.bool), 3, 2, 1, False, 0, 0)


@pytest.mark.parametrize("call", [
    lambda: ops.multiblock_masks(2, (4, 4), seed=0, **{**KW, "min_keep": 20}),
    lambda: ops.multiblock_masks(2, (14, 14), seed=0, **{**KW, "context_scale": (0.5, 1.1)}),
    lambda: ops.multiblock_masks(0, (14, 14), seed=0, **KW),
    lambda: ops.random_subset_masks(2, 10, context_ratio=0.6, target_ratio=0.6, seed=0),
    lambda: ops.random_subset_masks(2, 10, context_ratio=0.5, target_ratio=0.0, seed=0),
    lambda: ops.temporal_masks(2, (3, 4), frames=3, seed=0),
    lambda: ops.temporal_masks(2, (3, 4), frames=1, seed=0, sample_ids=torch.zeros(3, dtype=torch.long)),
])
def test_masking_ops__impossible_requests_raise_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_masking_ops__deterministic_across_calls_and_batch_splits():
    ids = torch.arange(20, 28)
    a = ops.multiblock_masks(8, (14, 14), seed=9, step=3, sample_ids=ids, **KW)
    assert_masksets_equal(a, ops.multiblock_masks(8, (14, 14), seed=9, step=3, sample_ids=ids, **KW))
    parts = [ops.multiblock_masks(4, (14, 14), seed=9, step=3, sample_ids=i, **KW) for i in ids.split(4)]
    kt = a.target_idx.shape[-1]
    for b, part in enumerate(parts):
        assert torch.equal(a.target_idx[4 * b:4 * b + 4, :, :part.target_idx.shape[-1]], part.target_idx)
        assert part.target_idx.shape[-1] <= kt


@requires_cuda
@pytest.mark.parametrize("grid", GRIDS)
def test_masking_ops__cuda_equals_cpu_bit_for_bit(grid):
    valid = _valid(32, grid)
    ids = torch.arange(1000, 1032)
    for tv in (None, valid):
        kw = dict(seed=123, step=5, sample_ids=ids, temporal_scale=(0.5, 1.0), **KW)
        cpu = ops.multiblock_masks(32, grid, token_valid=tv, **kw)
        cuda = ops.multiblock_masks(32, grid, device="cuda", token_valid=None if tv is None else tv.cuda(), **kw)
        assert cuda.context_idx.is_cuda
        assert_masksets_equal(cpu, cuda)
        kw = dict(context_ratio=0.5, target_ratio=0.25, seed=123, step=5, sample_ids=ids)
        assert_masksets_equal(ops.random_subset_masks(32, grid, token_valid=tv, **kw),
                              ops.random_subset_masks(32, grid, device="cuda",
                                                      token_valid=None if tv is None else tv.cuda(), **kw))
    if len(grid) == 3:
        kw = dict(frames=2, seed=1, step=2, random_span=True, sample_ids=ids)
        assert_masksets_equal(ops.temporal_masks(32, grid, **kw),
                              ops.temporal_masks(32, grid, device="cuda", **kw))
