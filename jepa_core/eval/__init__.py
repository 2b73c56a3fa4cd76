"""Evaluation: embed a dataset with a run; linear, kNN and attentive probes against baselines."""

from .attentive import AttentivePooler, AttentiveProbeConfig, attentive_probe, attentive_probe_features
from .compare import PROBE_KINDS, compare_encoders, embed_for_probe, probe_metrics, score_probe
from .embed import encode_dataset, encode_tokens, write_embeddings
from .knn import knn_predict, knn_probe, knn_probe_features
from .probe import few_shot_indices, linear_probe, mean_iou, probe_features, split_indices

__all__ = ["PROBE_KINDS", "AttentivePooler", "AttentiveProbeConfig", "attentive_probe",
           "attentive_probe_features", "compare_encoders", "embed_for_probe", "encode_dataset",
           "encode_tokens", "few_shot_indices", "knn_predict", "knn_probe", "knn_probe_features",
           "linear_probe", "mean_iou", "probe_features", "probe_metrics", "score_probe", "split_indices",
           "write_embeddings"]
