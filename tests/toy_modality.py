"""A tiny in-test modality: random vectors on a 1-D grid, for engine tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import TensorDataset

from jepa_core.modality import DataError, ModalityPlugin, ProbeData, Tokenizer
from jepa_core.tokens import TokenBatch, TokenLayout


class ToyTokenizer(Tokenizer):
    def __init__(self, num_features: int, dim: int) -> None:
        super().__init__()
        self.layout = TokenLayout((num_features,))
        self.dim = dim
        self.weight = nn.Parameter(torch.randn(num_features, dim) * 0.1)
        self.bias = nn.Parameter(torch.zeros(num_features, dim))

    def forward(self, batch) -> TokenBatch:
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        return TokenBatch(x[..., None] * self.weight + self.bias, self.layout)


class ToyModality(ModalityPlugin):
    """Rows of ``.npy`` float features; labels are the sign of the first two features' sum."""

    name = "toy"

    def default_config(self) -> dict:
        return {"mask": {"name": "random_subset", "context_ratio": 0.5, "target_ratio": 0.25},
                "model": {"dim": 16, "depth": 1, "heads": 2, "predictor_dim": 16, "predictor_depth": 1,
                          "predictor_heads": 2},
                "data": {"batch_size": 8}, "optim": {"epochs": 2, "lr": 1e-3},
                "logging": {"log_every": 1, "progress": False}}

    def load(self, path, cfg, state):
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: no such file")
        x = torch.from_numpy(np.load(p)).float()
        if state is None:
            state = {"num_features": int(x.shape[1])}
        return TensorDataset(x), state

    def build_tokenizer(self, cfg, state) -> Tokenizer:
        return ToyTokenizer(state["num_features"], cfg.model.dim)

    def probe_data(self, path, label, task, cfg, state) -> ProbeData:
        dataset, _ = self.load(path, cfg, state)
        x = dataset.tensors[0].numpy()
        return ProbeData(dataset, (x[:, 0] + x[:, 1] > 0).astype(int), x, "classification", "accuracy")


def write_toy_data(path: Path, rows: int = 64, features: int = 6, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    np.save(path, rng.standard_normal((rows, features)).astype(np.float32))
    return path
