"""One probe kind (linear, kNN, attentive) on encoder features, and the comparison
``jepa probe`` prints: the pretrained encoder against its random-init twin and the raw inputs."""

from __future__ import annotations

from typing import Union

import numpy as np
import torch
from torch.utils.data import Dataset

from ..modality import ModalityPlugin, ProbeData
from ..models import Encoder
from .attentive import AttentiveProbeConfig, attentive_probe_features
from .embed import encode_dataset, encode_tokens
from .knn import knn_probe_features
from .probe import probe_features

#: The probe kinds, ``--probe`` / ``logging.probe``.
PROBE_KINDS = ("linear", "knn", "attentive")

#: What a probe is fitted on: pooled ``[S, D]`` / per-token ``[S, N, D]`` features, or, for
#: the attentive probe, per-token features with their validity ``([S, N, D], [S, N])``.
Features = Union[np.ndarray, tuple[np.ndarray, np.ndarray]]


def check_probe_kind(kind: str, level: str) -> None:
    """Raise ``ValueError`` for an unknown kind, or an attentive probe of per-token labels."""
    if kind not in PROBE_KINDS:
        raise ValueError(f"unknown probe {kind!r}; choose one of {', '.join(PROBE_KINDS)}")
    if kind == "attentive" and level != "sample":
        raise ValueError("the attentive probe pools each sample's tokens into one prediction, so it "
                         "is for sample-level labels; these labels are per token: use the linear or "
                         "knn probe")


def probe_metrics(metric: str) -> tuple[str, ...]:
    """The metrics a probe reports: mIoU probes also report accuracy, from the same fit."""
    return (metric, "accuracy") if metric == "miou" else (metric,)


def embed_for_probe(encoder: Encoder, plugin: ModalityPlugin, dataset: Dataset, level: str, kind: str,
                    batch_size: int = 256, device: torch.device | str = "cpu",
                    desc: str = "embed", progress: bool = True) -> Features:
    """The features probe ``kind`` is fitted on (see :data:`Features`)."""
    check_probe_kind(kind, level)
    if kind == "attentive":
        return encode_tokens(encoder, plugin, dataset, batch_size, device, desc=desc, progress=progress)
    return encode_dataset(encoder, plugin, dataset, level, batch_size, device, desc=desc, progress=progress)


def score_probe(kind: str, features: Features, targets: np.ndarray, task: str,
                metrics: tuple[str, ...], train: np.ndarray, test: np.ndarray, c: float | None = 1.0,
                seed: int = 0, device: torch.device | str = "cpu") -> dict[str, float]:
    """Fit probe ``kind`` on the samples ``train``, score it on ``test``: ``{metric: score}``.

    Args:
        c: the linear probe's logistic ``C`` (``None``: cross-validated).
        seed: the attentive probe's seed.
        device: where the kNN similarities and the attentive probe run.
    """
    if kind == "linear":
        return probe_features(features, targets, task, metrics, train, test, c=c)
    if kind == "knn":
        return knn_probe_features(features, targets, task, metrics, train, test, device=device)
    if kind == "attentive":
        tokens, valid = features
        return attentive_probe_features(tokens, valid, targets, task, metrics, train, test,
                                        AttentiveProbeConfig(seed=seed), device)
    raise ValueError(f"unknown probe {kind!r}; choose one of {', '.join(PROBE_KINDS)}")


def raw_baseline(kind: str, data: ProbeData) -> tuple[str | None, Features | None]:
    """The raw-input baseline for probe ``kind``: ``(the probe it uses, its inputs)``.

    The linear and kNN probes use ``raw_features``; the attentive probe uses
    ``raw_tokens`` when the plugin gives them, else a linear probe on ``raw_features``.
    ``(None, None)`` when the plugin has no baseline.
    """
    if kind == "attentive" and data.raw_tokens is not None:
        valid = data.raw_valid if data.raw_valid is not None else np.ones(data.raw_tokens.shape[:2], bool)
        return "attentive", (data.raw_tokens, valid)
    if data.raw_features is None:
        return None, None
    return ("linear" if kind == "attentive" else kind), data.raw_features


def compare_encoders(pretrained: Encoder, random_init: Encoder, plugin: ModalityPlugin, data: ProbeData,
                     kind: str, train: np.ndarray, test: np.ndarray, c: float | None = 1.0,
                     seed: int = 0, batch_size: int = 256,
                     device: torch.device | str = "cpu",
                     check_pretrained: Callable[[np.ndarray], None] | None = None) -> dict:
    """Probe ``kind`` on the pretrained encoder, its random-init twin and the raw baseline.

    ``check_pretrained`` sees the pretrained features before they are probed (``jepa
    probe`` refuses NaN/inf features with it).

    Returns:
        ``{"task", "metric", "probe", "pretrained", "random_init", "raw", "raw_probe",
        "n_train", "n_test"}`` (``raw``/``raw_probe`` ``None`` without a baseline), and for
        mIoU probes an ``accuracy`` object with the same three scores.
    """
    check_probe_kind(kind, data.level)
    metrics = probe_metrics(data.metric)

    def score(features: Features | None, probe: str) -> dict[str, float] | None:
        if features is None:
            return None
        return score_probe(probe, features, data.targets, data.task, metrics, train, test, c, seed, device)

    def embed(encoder: Encoder, desc: str) -> Features:
        return embed_for_probe(encoder, plugin, data.dataset, data.level, kind, batch_size, device, desc)

    raw_probe, raw_inputs = raw_baseline(kind, data)
    features = embed(pretrained, "embed (pretrained)")
    if check_pretrained is not None:
        check_pretrained(features[0] if isinstance(features, tuple) else features)
    scores = {"pretrained": score(features, kind),
              "random_init": score(embed(random_init, "embed (random init)"), kind),
              "raw": score(raw_inputs, raw_probe)}
    result = {"task": data.task, "metric": data.metric, "probe": kind,
              **{k: (v[data.metric] if v else None) for k, v in scores.items()},
              "raw_probe": raw_probe, "n_train": int(len(train)), "n_test": int(len(test))}
    for extra in metrics[1:]:
        result[extra] = {k: (v[extra] if v else None) for k, v in scores.items()}
    return result
