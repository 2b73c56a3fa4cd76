"""Attentive probes: a small cross-attention pooler trained on frozen per-token features.

V-JEPA (Bardes et al. 2024) evaluates frozen encoders with an attentive probe rather
than a linear one on mean-pooled features: a few learned queries attend over every token
of a sample, so the probe can pick out where the information is instead of averaging it
away. Here: per-dimension standardization (training statistics), a linear projection,
one multi-head cross-attention from ``num_queries`` learned queries over the valid
tokens, a LayerNorm and a linear head on the queries' mean, trained with AdamW for a
fixed number of steps on the training split. Deterministic for a given ``seed``; the
caller's random state is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .probe import METRICS, score


@dataclass
class AttentiveProbeConfig:
    """The attentive probe's size and its fixed training budget.

    Args:
        num_queries: learned queries (V-JEPA uses one, V-JEPA 2 a few).
        heads: attention heads.
        width: the attention width; ``None``: the feature width rounded up to a multiple
            of ``heads``, at least 64.
        steps: AdamW steps on the training split.
        batch_size: samples per step.
        lr: AdamW learning rate (cosine-decayed to 0 over ``steps``).
        weight_decay: AdamW weight decay.
        seed: initialization and batch order.
    """

    num_queries: int = 1
    heads: int = 4
    width: int | None = None
    steps: int = 400
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    seed: int = 0


class AttentivePooler(nn.Module):
    """Learned queries cross-attending over a sample's valid tokens, then a linear head.

    Args:
        in_dim: feature width of the tokens.
        out_dim: classes (logits) or 1 (a regression value).
        width, heads, num_queries: see :class:`AttentiveProbeConfig`.

    Shapes:
        tokens ``[B, N, in_dim]``, valid ``[B, N]`` bool -> ``[B, out_dim]``.

    Examples:
        >>> pool = AttentivePooler(in_dim=8, out_dim=3, width=16, heads=2)
        >>> pool(torch.randn(4, 5, 8), torch.ones(4, 5, dtype=torch.bool)).shape
        torch.Size([4, 3])
    """

    def __init__(self, in_dim: int, out_dim: int, width: int = 64, heads: int = 4,
                 num_queries: int = 1) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"the attentive probe's width {width} must be a multiple of heads={heads}")
        self.proj = nn.Linear(in_dim, width)
        self.queries = nn.Parameter(torch.randn(1, num_queries, width) * 0.02)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, out_dim)

    def forward(self, tokens: Tensor, valid: Tensor) -> Tensor:
        x = self.proj(tokens)
        q = self.queries.expand(x.shape[0], -1, -1)
        # a sample without valid tokens would attend to nothing (NaN): let it see its first
        ignore = ~valid.clone()
        ignore[~valid.any(dim=1), 0] = False
        pooled, _ = self.attention(q, x, x, key_padding_mask=ignore, need_weights=False)
        return self.head(self.norm(pooled).mean(dim=1))


def _width(in_dim: int, cfg: AttentiveProbeConfig) -> int:
    if cfg.width is not None:
        return cfg.width
    return max(64, -(-in_dim // cfg.heads) * cfg.heads)


def _standardizer(tokens: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = tokens[valid]
    mean = rows.mean(axis=0)
    std = rows.std(axis=0)
    return mean.astype(np.float32), np.where(std > 1e-8, std, 1.0).astype(np.float32)


def _fit_predict(tokens_train: np.ndarray, valid_train: np.ndarray, y_train: np.ndarray,
                 tokens_test: np.ndarray, valid_test: np.ndarray, task: str,
                 cfg: AttentiveProbeConfig, device: torch.device) -> np.ndarray:
    mean, scale = _standardizer(tokens_train, valid_train)

    def tensor(tokens: np.ndarray) -> Tensor:
        return torch.as_tensor((tokens.astype(np.float32) - mean) / scale, device=device)

    x_train, x_test = tensor(tokens_train), tensor(tokens_test)
    v_train = torch.as_tensor(valid_train, device=device)
    v_test = torch.as_tensor(valid_test, device=device)
    if task == "classification":
        classes, codes = np.unique(y_train, return_inverse=True)
        y = torch.as_tensor(codes, device=device)
        out_dim = len(classes)
    else:
        y_mean, y_std = float(np.mean(y_train)), float(np.std(y_train)) or 1.0
        y = torch.as_tensor((np.asarray(y_train, dtype=np.float32) - y_mean) / y_std, device=device)
        out_dim = 1
    torch.manual_seed(cfg.seed)  # the initialization (the caller restores its random state)
    generator = torch.Generator(device="cpu").manual_seed(cfg.seed)
    model = AttentivePooler(x_train.shape[-1], out_dim, _width(x_train.shape[-1], cfg), cfg.heads,
                            cfg.num_queries).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.steps)
    n = len(x_train)
    batch = min(cfg.batch_size, n)
    order = torch.randperm(n, generator=generator)
    cursor = 0
    model.train()
    for _ in range(cfg.steps):
        if cursor + batch > n:
            order, cursor = torch.randperm(n, generator=generator), 0
        rows = order[cursor:cursor + batch].to(device)
        cursor += batch
        out = model(x_train[rows], v_train[rows])
        loss = F.cross_entropy(out, y[rows]) if task == "classification" else F.mse_loss(out[:, 0], y[rows])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    with torch.no_grad():
        preds = [model(x_test[i:i + 256], v_test[i:i + 256]) for i in range(0, len(x_test), 256)]
    pred = torch.cat(preds).cpu().numpy() if preds else np.zeros((0, out_dim), dtype=np.float32)
    if task == "classification":
        return classes[pred.argmax(axis=1)]
    return pred[:, 0].astype(np.float64) * y_std + y_mean


def attentive_probe(tokens_train: np.ndarray, valid_train: np.ndarray | None, y_train: np.ndarray,
                    tokens_test: np.ndarray, valid_test: np.ndarray | None, y_test: np.ndarray,
                    task: str, metrics: str | tuple[str, ...], cfg: AttentiveProbeConfig | None = None,
                    device: torch.device | str = "cpu") -> float | dict[str, float]:
    """Train an :class:`AttentivePooler` on the training samples, score it on the test ones.

    Classification trains with cross-entropy and predicts the top class; regression
    trains on standardized targets with a squared error. The global random state of
    torch (CPU and the device's) is the same afterwards as before.

    Args:
        tokens_train, tokens_test: per-token features of each sample.
        valid_train, valid_test: which tokens are real (``None``: all).
        y_train, y_test: one label per sample.
        task: ``classification`` or ``regression``.
        metrics: one metric name (returns a float) or several (returns ``{name: score}``).
        cfg: size and budget (default :class:`AttentiveProbeConfig`).
        device: where to train.

    Shapes:
        tokens ``[S, N, D]``, valid ``[S, N]``, y ``[S]``.
    """
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for metric in names:
        if metric not in METRICS.get(task, ()):
            raise ValueError(f"metric {metric!r} does not fit task {task!r}")
    if "miou" in names or np.ndim(y_train) != 1:
        raise ValueError("the attentive probe pools each sample's tokens into one prediction, so it "
                         "is for sample-level labels; use --probe linear or knn for per-token labels")
    if tokens_train.ndim != 3:
        raise ValueError(f"the attentive probe needs per-token features [S, N, D], got shape "
                         f"{tokens_train.shape}")
    cfg = cfg or AttentiveProbeConfig()
    if len(tokens_train) == 0:
        raise ValueError("the attentive probe needs at least one training sample")
    device = torch.device(device)
    if valid_train is None:
        valid_train = np.ones(tokens_train.shape[:2], dtype=bool)
    if valid_test is None:
        valid_test = np.ones(tokens_test.shape[:2], dtype=bool)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        pred = _fit_predict(tokens_train, np.asarray(valid_train, dtype=bool), np.asarray(y_train),
                            tokens_test, np.asarray(valid_test, dtype=bool), task, cfg, device)
    scores = {m: score(m, y_test, pred) for m in names}
    return scores[metrics] if isinstance(metrics, str) else scores


def attentive_probe_features(tokens: np.ndarray, valid: np.ndarray | None, targets: np.ndarray,
                             task: str, metrics: str | tuple[str, ...], train: np.ndarray,
                             test: np.ndarray, cfg: AttentiveProbeConfig | None = None,
                             device: torch.device | str = "cpu") -> float | dict[str, float]:
    """:func:`attentive_probe` on the samples ``train`` and ``test`` of ``tokens [S, N, D]``."""
    v_train = None if valid is None else valid[train]
    v_test = None if valid is None else valid[test]
    return attentive_probe(tokens[train], v_train, targets[train], tokens[test], v_test, targets[test],
                           task, metrics, cfg, device)
