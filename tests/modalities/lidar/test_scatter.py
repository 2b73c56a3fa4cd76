"""The plain-torch per-group reductions match torch-geometric's ``scatter`` they replace."""

import pytest
import torch

from modalities.lidar.scatter import scatter


@pytest.mark.parametrize("reduce", ["sum", "mean", "min", "max"])
@pytest.mark.parametrize("shape", [(50,), (50, 3)])
def test_scatter__matches_torch_geometric(reduce, shape):
    pyg = pytest.importorskip("torch_geometric.utils")
    gen = torch.Generator().manual_seed(0)
    src = torch.randn(shape, generator=gen)
    index = torch.randint(0, 9, (shape[0],), generator=gen)
    index[index == 4] = 5  # group 4 stays empty
    expected = pyg.scatter(src, index, dim=0, dim_size=10, reduce=reduce)
    assert torch.equal(scatter(src, index, 10, reduce), expected)


def test_scatter__empty_groups_are_zero_and_grads_flow():
    src = torch.tensor([[1.0], [2.0], [4.0]], requires_grad=True)
    out = scatter(src, torch.tensor([0, 0, 2]), 3, "max")
    assert out.squeeze(1).tolist() == [2.0, 0.0, 4.0]
    out.sum().backward()
    assert src.grad.squeeze(1).tolist() == [0.0, 1.0, 1.0]


def test_scatter__unknown_reduction_is_an_error():
    with pytest.raises(ValueError, match="reduce must be one of"):
        scatter(torch.zeros(2), torch.zeros(2, dtype=torch.long), 1, "median")
