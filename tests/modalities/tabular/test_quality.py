"""End-to-end quality: pretraining with the tabular defaults must beat the random-init encoder.

The table is one the defaults were never tuned on: rows drawn from a mixture of latent
clusters, observed through noisy nonlinear numeric columns and cluster-dependent
categorical columns, with values missing at random. The label is a grouping of the
clusters, so a probe does well only with features that recover the latent structure.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
import torch

from jepa_core.cli import main
from jepa_core.config import ModelConfig
from jepa_core.models import Encoder
from modalities.tabular.tokenizer import TabularTokenizer


def make_latent_cluster_table(path, rows: int = 2000, seed: int = 0, clusters: int = 8,
                              missing: float = 0.08) -> str:
    """Write a CSV of ``rows`` rows: 8 numeric + 3 categorical columns and a 3-class ``y``."""
    rng = np.random.default_rng(seed)
    latent_dim = 3
    centers = rng.normal(0, 1.6, size=(clusters, latent_dim))
    c = rng.integers(0, clusters, size=rows)
    z = centers[c] + rng.normal(0, 0.6, size=(rows, latent_dim))
    h = z @ rng.normal(size=(latent_dim, 8)) / np.sqrt(latent_dim)
    num = np.stack([h[:, 0], np.tanh(h[:, 1]) * 2, h[:, 2] ** 2 / 2, np.exp(h[:, 3] / 2),
                    np.sin(h[:, 4]), h[:, 5] * h[:, 6] / 2, np.abs(h[:, 7]), h[:, 0] - h[:, 5]], 1)
    num = num + rng.normal(0, 0.5, size=num.shape) * num.std(0)
    df = pd.DataFrame({f"x{i}": num[:, i] * 10.0 ** (i % 3) for i in range(num.shape[1])})
    for j, levels in enumerate([3, 5, 4]):
        probs = rng.dirichlet(np.full(levels, 0.5), size=clusters)
        vals = np.array([rng.choice(levels, p=probs[k]) for k in c])
        df[f"c{j}"] = [f"v{j}_{v}" for v in vals]
    for col in list(df.columns):
        df.loc[rng.random(rows) < missing, col] = np.nan
    df["y"] = np.array(["a", "b", "c"])[(rng.permutation(clusters) % 3)[c]]
    df.to_csv(path, index=False)
    return str(path)


def test_generated_table_has_latent_structure(tmp_path):
    df = pd.read_csv(make_latent_cluster_table(tmp_path / "t.csv", rows=500, seed=1))
    assert df.shape == (500, 12)
    assert df.drop(columns="y").isna().mean().between(0.03, 0.15).all()
    assert set(df["y"]) == {"a", "b", "c"}


def test_concat_pooling_is_tokens_side_by_side():
    tok = TabularTokenizer(2, [4], dim=8)
    enc = Encoder(tok, ModelConfig(dim=8, depth=1, heads=2, num_registers=1), "concat").eval()
    batch = {"num": torch.randn(5, 2), "num_missing": torch.zeros(5, 2, dtype=torch.bool),
             "cat": torch.randint(0, 4, (5, 1))}
    pooled = enc.pooled_features(batch)
    feats, _ = enc.token_features(batch)
    assert pooled.shape == (5, 3 * 8)
    torch.testing.assert_close(pooled, feats.flatten(1))


@pytest.mark.parametrize("seed", [0, 1])
def test_pretrained_beats_random_init_on_unseen_table(tmp_path, capsys, monkeypatch, seed):
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    torch.set_num_threads(1)
    data = make_latent_cluster_table(tmp_path / "table.csv", rows=3000, seed=seed)
    run = str(tmp_path / "run")
    assert main(["pretrain", "tabular", "--data", data, "--ignore-columns", "y", "--out", run,
                 "--epochs", "30", "--device", "cpu", "--set", "logging.progress=false"]) == 0
    capsys.readouterr()
    assert main(["probe", run, "--data", data, "--label", "y", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["task"] == "classification" and result["metric"] == "accuracy"
    assert result["pretrained"] > result["random_init"] + 0.01, result
