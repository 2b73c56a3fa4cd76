"""Tiny in-test modalities for engine tests: random vectors on a 1-D grid (``toy``), event
streams without a grid (``toy_events``), and a conditioned toy tokenizer."""

from __future__ import annotations

import json
import os
import tempfile
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

    def demo_data(self) -> str:
        return str(write_toy_data(_demo_dir() / "toy.npy"))

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


class ToyTokenLabelModality(ToyModality):
    """The toy with a per-token label, each feature's sign (a token-level mIoU probe), and
    the raw feature values as per-token baseline inputs."""

    name = "toy_token_labels"

    def probe_data(self, path, label, task, cfg, state) -> ProbeData:
        dataset, _ = self.load(path, cfg, state)
        x = dataset.tensors[0].numpy()
        return ProbeData(dataset, (x > 0).astype(int), x[..., None], "classification", "miou", level="token")


class ToyRawTokensModality(ToyModality):
    """The toy whose probe data also holds per-token raw inputs (for the attentive baseline)."""

    name = "toy_raw_tokens"

    def probe_data(self, path, label, task, cfg, state) -> ProbeData:
        data = super().probe_data(path, label, task, cfg, state)
        data.raw_tokens = data.raw_features[..., None]
        return data


def _demo_dir() -> Path:
    """A per-process scratch folder for the toy modalities' demo files."""
    d = Path(tempfile.gettempdir()) / f"jepa-toy-demo-{os.getpid()}"
    d.mkdir(exist_ok=True)
    return d


def write_toy_data(path: Path, rows: int = 64, features: int = 6, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    np.save(path, rng.standard_normal((rows, features)).astype(np.float32))
    return path


class ToyEventTokenizer(Tokenizer):
    """Events without a grid: one token per event, placed by its timestamp (``coord_dim=1``).

    Also tags events with a negative value as type 1, so type weights can be tested.
    """

    seen_lengths: list[int] = []  # padded N of every batch tokenized, for tests

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.layout = None
        self.dim = dim
        self.coord_dim = 1
        self.value = nn.Linear(1, dim)

    def forward(self, batch) -> TokenBatch:
        ToyEventTokenizer.seen_lengths.append(int(batch["values"].shape[1]))
        tokens = self.value(batch["values"][..., None])
        return TokenBatch(tokens, None, valid=batch["valid"], coords=batch["times"][..., None],
                          types=(batch["values"] < 0).long())


class ToyEventDataset(torch.utils.data.Dataset):
    """Variable-length samples ``{"values": [L], "times": [L]}`` from offsets into flat arrays."""

    def __init__(self, values: np.ndarray, times: np.ndarray, offsets: np.ndarray) -> None:
        self.values, self.times, self.offsets = values, times, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> dict:
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return {"values": torch.from_numpy(self.values[a:b]), "times": torch.from_numpy(self.times[a:b])}


def pad_events(samples: list[dict]) -> dict:
    """Pad a list of event samples to the longest: ``values``, ``times`` ``[B, L]``, ``valid``."""
    n = max(len(s["values"]) for s in samples)
    out = {"values": torch.zeros(len(samples), n), "times": torch.zeros(len(samples), n),
           "valid": torch.zeros(len(samples), n, dtype=torch.bool)}
    for i, s in enumerate(samples):
        k = len(s["values"])
        out["values"][i, :k], out["times"][i, :k], out["valid"][i, :k] = s["values"], s["times"], True
    return out


class ToyEventModality(ModalityPlugin):
    """``.npz`` of event streams (``values``, ``times``, ``offsets``): 3 to 12 events a sample."""

    name = "toy_events"

    def default_config(self) -> dict:
        return {"mask": {"name": "random_subset", "context_ratio": 0.5, "target_ratio": 0.25},
                "model": {"dim": 16, "depth": 1, "heads": 2, "predictor_dim": 16, "predictor_depth": 1,
                          "predictor_heads": 2},
                "objective": {"type_weights": [1.0, 0.5]},
                "data": {"batch_size": 4}, "optim": {"epochs": 2, "lr": 1e-3},
                "logging": {"log_every": 1, "progress": False}}

    def demo_data(self) -> str:
        return str(write_toy_events(_demo_dir() / "events.npz"))

    def load(self, path, cfg, state):
        p = Path(path)
        if not p.is_file():
            raise DataError(f"{p}: no such file")
        z = np.load(p)
        return ToyEventDataset(z["values"], z["times"], z["offsets"]), state or {}

    def build_tokenizer(self, cfg, state) -> Tokenizer:
        return ToyEventTokenizer(cfg.model.dim)

    def collate(self, samples: list) -> dict:
        return pad_events(samples)


def write_toy_events(path: Path, samples: int = 24, seed: int = 0) -> Path:
    """Event streams of 3 to 12 events each, times increasing by about 1 per event."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, 13, samples)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    times = np.concatenate([np.cumsum(rng.uniform(0.5, 1.5, k)) for k in lengths]).astype(np.float32)
    values = np.sin(times).astype(np.float32) + 0.1 * rng.standard_normal(len(times)).astype(np.float32)
    np.savez(path, values=values, times=times, offsets=offsets)
    return path


class ToyConditionedTokenizer(ToyTokenizer):
    """Toy grid tokens whose whole sample is also handed over as the condition.

    Token values are independent across positions, so the context says nothing about the
    targets; the condition (the sample itself) says everything. ``condition``: ``"sample"``
    hands it over as ``[B, F]``, ``"frame"`` as ``[B, F, 1]`` (each token a frame of the
    ``(F,)`` grid, conditioned on its own value), ``None`` not at all.
    """

    def __init__(self, num_features: int, dim: int, condition: str | None = "sample") -> None:
        super().__init__(num_features, dim)
        self.condition = condition
        self.condition_dim = {"sample": num_features, "frame": 1, None: 0}[condition]

    def forward(self, batch) -> TokenBatch:
        tb = super().forward(batch)
        x = batch[0] if isinstance(batch, (list, tuple)) else batch
        cond = {"sample": x, "frame": x[..., None], None: None}[self.condition]
        return TokenBatch(tb.tokens, tb.layout, conditions=cond)
