"""wrap_model under DDP: what it hands to DistributedDataParallel."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from jepa_core.config import DistConfig
from jepa_core.train.distributed import DistEnv
from jepa_core.train.parallel import wrap_model
from tests.helpers import run_in_own_process


class WithEmptyRegisters(nn.Module):
    def __init__(self):
        super().__init__()
        self.registers = nn.Parameter(torch.zeros(1, 0, 4))  # model.num_registers=0
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return self.lin(torch.cat([self.registers.expand(len(x), -1, -1), x], 1)).sum()


def check_ddp_leaves_out_parameters_without_elements() -> None:
    """Run by the test below in a process of its own (a one-rank gloo group in a file store)."""
    with tempfile.TemporaryDirectory() as tmp:
        dist.init_process_group("gloo", init_method=f"file://{Path(tmp) / 'store'}", rank=0, world_size=1)
        try:
            model = WithEmptyRegisters()
            ddp = wrap_model(model, DistConfig(), DistEnv(rank=0, world_size=2), torch.device("cpu"))
            assert isinstance(ddp, nn.parallel.DistributedDataParallel)
            assert ddp.parameters_to_ignore == {"registers"}
            ddp(torch.randn(2, 3, 4)).backward()
            assert model.lin.weight.grad is not None
        finally:
            dist.destroy_process_group()


def test_wrap_model__ddp_leaves_out_parameters_without_elements():
    """Nothing to average in them, and their gradient layout made every lidar DDP run warn
    'Grad strides do not match bucket view strides'."""
    run_in_own_process(__name__, "check_ddp_leaves_out_parameters_without_elements")
