"""World-model diagnostics: open-loop rollout error vs horizon, in latent space and in position.

From held-out trajectories (with ``states``, the agent's true position, for the position
part), windows of ``history + horizon`` frames are encoded; the predictor rolls out
``horizon`` frames from the first ``history`` with the true actions. Reported per
rollout step ``k``:

- ``latent_l2``: mean Euclidean distance of the predicted latent to the encoded frame;
- ``copy_l2``: the same for the "nothing moves" baseline (the last history latent);
- ``position_err``: distance (map units) between the true position and a linear probe
  (ridge, fitted on encoded true frames of the other half of the episodes) applied to the
  predicted latent; ``position_err_true`` the probe on the true frame's latent (its floor)
  and ``position_err_copy`` the probe on the copy baseline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .trajectories import list_episodes


def _windows(path: str | Path, span: int, frame_skip: int, limit: int):
    obs, act, states = [], [], []
    for ep in list_episodes(path).episodes:
        with np.load(ep.path) as f:
            if "states" not in f.files:
                continue
            o = f["observations"][ep.start:ep.start + ep.length]
            a = f["actions"][ep.start:ep.start + ep.length].astype(np.float32)
            s = f["states"][ep.start:ep.start + ep.length]
        for start in range(0, ep.length - span * frame_skip + 1, span * frame_skip):
            sl = slice(start, start + span * frame_skip)
            obs.append(o[sl][::frame_skip])
            act.append(a[sl].reshape(span, -1))
            states.append(s[sl][::frame_skip])
        if len(obs) >= limit:
            break
    if not obs:
        raise ValueError(f"{path}: no episode with 'states' long enough for {span} frames x "
                         f"frame_skip {frame_skip}")
    return np.stack(obs[:limit]), np.stack(act[:limit]), np.stack(states[:limit])


def _ridge(x: np.ndarray, y: np.ndarray, alpha: float = 1e-2):
    x1 = np.concatenate([x, np.ones((len(x), 1))], 1)
    w = np.linalg.solve(x1.T @ x1 + alpha * np.eye(x1.shape[1]), x1.T @ y)
    return lambda z: np.concatenate([z, np.ones((len(z), 1))], 1) @ w


@torch.no_grad()
def rollout_errors(model, path: str | Path, frame_skip: int, horizon: int | None = None,
                   limit: int = 256) -> dict:
    """Rollout error vs horizon of a world model on the trajectories at ``path``.

    Returns:
        ``{"horizon": [1..K], "latent_l2", "copy_l2", "position_err", "position_err_true",
        "position_err_copy", "windows"}``, lists of ``K`` floats.
    """
    h = model.history
    horizon = horizon or model.predictor.max_frames + 1 - h
    obs, act, states = _windows(path, h + horizon, frame_skip, limit)
    z = model.encode(torch.as_tensor(obs))  # [N, W, D]
    pred = model.rollout(z[:, :h], torch.as_tensor(act)[:, :h + horizon - 1]).numpy()
    z = z.numpy()
    target, copy = z[:, h:], np.repeat(z[:, h - 1:h], horizon, 1)
    n = len(z)
    fit, test = slice(0, n // 2), slice(n // 2, n)
    probe = _ridge(z[fit].reshape(-1, z.shape[-1]), states[fit].reshape(-1, states.shape[-1]))
    true_pos = states[test, h:]

    def pos_err(latents):
        p = probe(latents[test].reshape(-1, z.shape[-1])).reshape(true_pos.shape)
        return np.linalg.norm(p - true_pos, axis=-1).mean(0).tolist()

    return {"horizon": list(range(1, horizon + 1)),
            "latent_l2": np.linalg.norm(pred - target, axis=-1).mean(0).tolist(),
            "copy_l2": np.linalg.norm(copy - target, axis=-1).mean(0).tolist(),
            "position_err": pos_err(pred), "position_err_true": pos_err(target),
            "position_err_copy": pos_err(copy), "windows": n}
