"""Evaluation: embed a dataset with a run, linear probes against baselines."""

from .embed import encode_dataset, write_embeddings
from .probe import linear_probe, mean_iou, probe_features, split_indices

__all__ = ["encode_dataset", "linear_probe", "mean_iou", "probe_features", "split_indices",
           "write_embeddings"]
