"""``example-sequences``: variable-length event sequences with timestamps.

A file is JSON lines, one sequence per line::

    {"times": [0.0, 0.7, 1.9], "values": [[0.1, 1.0], [0.3, 0.9], [-0.2, 1.1]], "label": 1}

``times`` are non-decreasing, ``values`` has one row of ``F`` numbers per event (``F``
the same for every line), other fields (``label``) are labels for ``jepa probe``. Every
event becomes one token; a token's timestamp is its coordinate.

There is no token grid: the tokenizer sets ``layout = None`` and hands the engine each
event's timestamp as its coordinate (``TokenBatch.coords``), from which the encoder and
predictor compute positions. Batches differ in length, padded with validity.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from jepa_core.config import Config
from jepa_core.modality import DataError, ModalityPlugin, ProbeData, Tokenizer
from jepa_core.tokens import TokenBatch

#: Bump when :func:`write_demo` changes, so stale caches are regenerated.
DEMO_VERSION = 1


@dataclass
class SequenceOptions:
    """The ``options:`` section of an ``example-sequences`` run.

    Args:
        max_len: the longest sequence a run accepts; 0 fits it to the pretraining file.
            A longer sequence is an error, never truncated.
    """

    max_len: int = 0


@dataclass
class Sequence:
    times: np.ndarray   # [L] float
    values: np.ndarray  # [L, F] float
    fields: dict        # the other fields of the line (labels)


def read_sequences(path: str | Path) -> list[Sequence]:
    """Read and validate a JSON-lines file; errors name the file and line.

    Raises:
        DataError: a missing or empty file, a line that is not a JSON object, a missing or
            empty ``times``/``values``, mismatched lengths, a ragged ``values`` width,
            decreasing times, or a value that is not a finite number.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file (expected JSON lines of event sequences)")
    out: list[Sequence] = []
    width = None
    for no, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{p}: line {no}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{where}: not valid JSON ({e.msg})") from None
        if not isinstance(item, dict) or "times" not in item or "values" not in item:
            raise DataError(f"{where}: expected an object with 'times' and 'values'")
        try:
            times = np.asarray(item.pop("times"), dtype=np.float64)
            values = np.asarray(item.pop("values"), dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{where}: 'times' must be numbers and 'values' rows of numbers "
                            f"of one width") from None
        if times.ndim != 1 or len(times) == 0:
            raise DataError(f"{where}: 'times' must be a non-empty list of numbers")
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2 or len(values) != len(times):
            raise DataError(f"{where}: 'values' needs one row per time ({len(times)}), got "
                            f"shape {list(values.shape)}")
        if width is not None and values.shape[1] != width:
            raise DataError(f"{where}: rows of {values.shape[1]} values, earlier lines had {width}")
        width = values.shape[1]
        if not (np.isfinite(times).all() and np.isfinite(values).all()):
            raise DataError(f"{where}: NaN or infinite time or value")
        if (np.diff(times) < 0).any():
            raise DataError(f"{where}: 'times' must be non-decreasing")
        out.append(Sequence(times, values, item))
    if not out:
        raise DataError(f"{p}: holds no sequence")
    return out


class SequenceDataset(Dataset):
    """Sequences as ``{"times": [L], "values": [L, F]}`` float32 tensors (standardized)."""

    def __init__(self, sequences: list[Sequence], state: dict) -> None:
        mean, std = np.asarray(state["value_mean"]), np.asarray(state["value_std"])
        self.items = [{"times": torch.tensor(s.times - s.times[0], dtype=torch.float32),
                       "values": torch.tensor((s.values - mean) / std, dtype=torch.float32)}
                      for s in sequences]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


class SequenceTokenizer(Tokenizer):
    """One token per event: its values and the gap since the previous event, embedded.

    Args:
        num_values: values per event (``F``).
        max_len: the run's longest sequence (scales the relative-time feature).
        time_scale: the typical gap between events; timestamps are divided by it so the
            coordinates step by about one per token.
        dim: token width.
    """

    def __init__(self, num_values: int, max_len: int, time_scale: float, dim: int) -> None:
        super().__init__()
        self.layout = None  # no grid: positions come from the timestamps
        self.coord_dim = 1
        self.dim = dim
        self.max_len = max_len
        self.time_scale = time_scale
        self.proj = nn.Linear(num_values + 2, dim)

    def forward(self, batch: dict) -> TokenBatch:
        times, values, valid = batch["times"], batch["values"], batch["valid"]
        t = times / self.time_scale
        gap = torch.diff(t, dim=1, prepend=t[:, :1]).clamp_min(0.0)
        feats = torch.cat([values, torch.log1p(gap)[..., None], t[..., None] / self.max_len], -1)
        tokens = self.proj(feats) * valid[..., None]
        return TokenBatch(tokens, self.layout, valid=valid, coords=t[..., None])


class EventSequences(ModalityPlugin):
    """Event sequences (JSON lines) as one token per event; see the module docstring.

    ``probe --label FIELD`` classifies sequences by a field of each line.
    """

    name = "example-sequences"
    options_class = SequenceOptions
    embedding_level = "sample"

    def default_config(self) -> dict:
        return {
            "data": {"batch_size": 32},
            "mask": {"name": "example-span", "num_spans": 2, "span_ratio": 0.3},
            "model": {"dim": 32, "depth": 2, "heads": 4, "predictor_dim": 32,
                      "predictor_depth": 1, "predictor_heads": 4, "pooling": "mean"},
            "objective": {"loss": "example-cos"},
            "optim": {"epochs": 10, "lr": 1e-3},
        }

    def demo_data(self) -> str:
        root = Path(os.environ.get("JEPA_CACHE_DIR") or Path.home() / ".cache" / "jepa_core")
        path = root / f"example_sequences_v{DEMO_VERSION}.jsonl"
        if not path.is_file():
            write_demo(path)
        return str(path)

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[Dataset, dict]:
        sequences = read_sequences(path)
        if state is None:
            state = self._fit(sequences, self.options(cfg))
        self._check(sequences, state, path)
        return SequenceDataset(sequences, state), state

    @staticmethod
    def _fit(sequences: list[Sequence], options: SequenceOptions) -> dict:
        values = np.concatenate([s.values for s in sequences])
        gaps = np.concatenate([np.diff(s.times) for s in sequences])
        gaps = gaps[gaps > 0]
        longest = max(len(s.times) for s in sequences)
        return {"num_values": int(values.shape[1]), "max_len": int(options.max_len or longest),
                "time_scale": float(np.median(gaps)) if len(gaps) else 1.0,
                "value_mean": values.mean(0).tolist(),
                "value_std": np.maximum(values.std(0), 1e-6).tolist()}

    @staticmethod
    def _check(sequences: list[Sequence], state: dict, path: str) -> None:
        for no, s in enumerate(sequences, start=1):
            if s.values.shape[1] != state["num_values"]:
                raise DataError(f"{path}: sequence {no} has {s.values.shape[1]} values per event; "
                                f"the run was fitted on {state['num_values']}")
            if len(s.times) > state["max_len"]:
                raise DataError(f"{path}: sequence {no} has {len(s.times)} events, more than the "
                                f"run's max_len {state['max_len']} (set options.max_len when "
                                f"pretraining)")

    def build_tokenizer(self, cfg: Config, state: dict) -> SequenceTokenizer:
        return SequenceTokenizer(state["num_values"], state["max_len"], state["time_scale"],
                                 cfg.model.dim)

    def collate(self, samples: list[dict]) -> dict:
        """Pad to the batch's longest sequence; ``valid`` marks the events."""
        n = max(len(s["times"]) for s in samples)
        times = torch.zeros(len(samples), n)
        values = torch.zeros(len(samples), n, samples[0]["values"].shape[1])
        valid = torch.zeros(len(samples), n, dtype=torch.bool)
        for i, s in enumerate(samples):
            k = len(s["times"])
            times[i, :k], values[i, :k], valid[i, :k] = s["times"], s["values"], True
        return {"times": times, "values": values, "valid": valid}

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        sequences = read_sequences(path)
        self._check(sequences, state, path)
        missing = [no for no, s in enumerate(sequences, start=1) if label not in s.fields]
        if missing:
            raise DataError(f"{path}: line(s) {missing[:5]} have no field {label!r}")
        raw = [s.fields[label] for s in sequences]
        task = task or "classification"
        if task == "classification":
            classes = sorted({str(v) for v in raw})
            if len(classes) < 2:
                raise DataError(f"{path}: field {label!r} has a single class {classes}")
            targets = np.array([classes.index(str(v)) for v in raw])
        else:
            targets = np.asarray(raw, dtype=np.float64)
        stats = np.stack([np.concatenate([s.values.mean(0), s.values.std(0),
                                          [len(s.times), np.diff(s.times).mean() if len(s.times) > 1 else 0.0]])
                          for s in sequences])
        return ProbeData(SequenceDataset(sequences, state), targets, stats, task,
                         "accuracy" if task == "classification" else "r2")


def write_demo(path: str | Path, num: int = 240, seed: int = 0) -> Path:
    """Synthetic two-class event sequences: Poisson arrivals (label 0) vs periodic bursts
    (label 1), 8-32 events, two values per event (amplitude, phase-locked signal).

    Examples:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as d:
        ...     len(read_sequences(write_demo(Path(d) / "ev.jsonl", num=10)))
        10
    """
    rng = np.random.default_rng(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(num):
        label = i % 2
        n = int(rng.integers(8, 33))
        if label == 0:
            times = np.cumsum(rng.exponential(1.0, n))
        else:
            times = np.sort(np.repeat(np.arange(math.ceil(n / 4)) * 4.0, 4)[:n] + rng.uniform(0, 0.3, n))
        phase = np.sin(2 * np.pi * times / 4.0)
        values = np.stack([rng.normal(label, 1.0, n), phase * label + rng.normal(0, 0.3, n)], 1)
        lines.append(json.dumps({"times": np.round(times, 4).tolist(),
                                 "values": np.round(values, 4).tolist(), "label": label}))
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path
