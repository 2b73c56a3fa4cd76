"""The plain-torch per-group reductions (which replaced torch-geometric's ``scatter``)
match a group-by-group reference; empty groups are zero, as torch-geometric gives them."""

import pytest
import torch

from modalities.lidar.scatter import scatter


@pytest.mark.parametrize("reduce", ["sum", "mean", "min", "max"])
@pytest.mark.parametrize("shape", [(50,), (50, 3)])
def test_scatter__matches_a_group_by_group_reference(reduce, shape):
    gen = torch.Generator().manual_seed(0)
    src = torch.randn(shape, generator=gen)
    index = torch.randint(0, 9, (shape[0],), generator=gen)
    index[index == 4] = 5  # group 4 stays empty
    ops = {"sum": lambda x: x.sum(0), "mean": lambda x: x.mean(0),
           "min": lambda x: x.min(0).values, "max": lambda x: x.max(0).values}
    expected = torch.stack([ops[reduce](src[index == g]) if (index == g).any()
                            else torch.zeros(shape[1:]) for g in range(10)])
    torch.testing.assert_close(scatter(src, index, 10, reduce), expected, rtol=1e-6, atol=1e-6)


def test_scatter__empty_groups_are_zero_and_grads_flow():
    src = torch.tensor([[1.0], [2.0], [4.0]], requires_grad=True)
    out = scatter(src, torch.tensor([0, 0, 2]), 3, "max")
    assert out.squeeze(1).tolist() == [2.0, 0.0, 4.0]
    out.sum().backward()
    assert src.grad.squeeze(1).tolist() == [0.0, 1.0, 1.0]


def test_scatter__unknown_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduce must be one of"):
        scatter(torch.zeros(2), torch.zeros(2, dtype=torch.long), 1, "median")
