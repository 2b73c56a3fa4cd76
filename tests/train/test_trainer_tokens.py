"""A grid-free, variable-length modality trains through the Trainer and embeds per sample."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from jepa_core import cli
from jepa_core.eval import encode_dataset
from jepa_core.modality import DataError
from jepa_core.registry import register_modality
from jepa_core.run import load_run
from tests.toy_modality import ToyEventModality, ToyEventTokenizer, write_toy_events

register_modality("toy_events", ToyEventModality)


def test_fit__no_grid_batches_of_different_lengths(tmp_path, capsys):
    data = write_toy_events(tmp_path / "events.npz")
    ToyEventTokenizer.seen_lengths.clear()
    assert cli.main(["pretrain", "toy_events", "--data", str(data), "--out", str(tmp_path / "r"),
                     "--steps", "8"]) == 0
    assert len(set(ToyEventTokenizer.seen_lengths)) > 1  # batches did differ in N
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 9))
    assert all(math.isfinite(r["loss"]) for r in rows)
    capsys.readouterr()

    out = tmp_path / "emb.npy"
    ToyEventTokenizer.seen_lengths.clear()
    assert cli.main(["embed", str(tmp_path / "r"), "--out", str(out), "--batch-size", "5"]) == 0
    assert len(set(ToyEventTokenizer.seen_lengths)) > 1  # per-batch N stacked into [S, D]
    emb = np.load(out)
    assert emb.shape == (24, 16) and np.isfinite(emb).all()
    whole = np.load(out) if cli.main(["embed", str(tmp_path / "r"), "--out", str(out)]) == 0 else None
    np.testing.assert_allclose(emb, whole, rtol=1e-4, atol=1e-5)  # padding changes nothing

    run = load_run(tmp_path / "r")
    dataset, _ = run.plugin.load(str(data), run.cfg, run.state)
    with pytest.raises(DataError, match="token-level embeddings are not supported"):
        encode_dataset(run.model.target_encoder, run.plugin, dataset, "token", batch_size=5)


def test_pretrain__no_grid_bad_input_is_one_error_line(tmp_path, capsys):
    data = write_toy_events(tmp_path / "events.npz")
    assert cli.main(["pretrain", "toy_events", "--data", str(data), "--out", str(tmp_path / "w"),
                     "--steps", "2", "--set", "model.attention_window=1"]) == 2
    assert "error: model.attention_window applies to token grids" in capsys.readouterr().err
    z = dict(np.load(data))
    z["times"][5] = np.nan
    np.savez(tmp_path / "bad.npz", **z)
    assert cli.main(["pretrain", "toy_events", "--data", str(tmp_path / "bad.npz"),
                     "--out", str(tmp_path / "b"), "--steps", "8"]) == 2
    assert "coords holds NaN or inf" in capsys.readouterr().err
