"""Label-free locality of LiDAR token features along a run (issue 22, part 4).

For the kept checkpoints of a ``lidar_long.py --keep-every N`` run (and the run's random
init, step 0) this measures, on the demo scans, for the target encoder (teacher) and the
context encoder (student):

- ``nbr_cos`` / ``far_cos``: mean cosine similarity of the centered features of two
  occupied tokens that are 4-neighbours, and of two occupied tokens of the same scan at
  least ``FAR`` tokens apart; ``smooth = nbr_cos - far_cos`` grows when features become
  interpolations of their neighbourhood rather than descriptions of their own cell.
- ``raw_r2``: how well a ridge map recovers each occupied token's own raw pillar
  statistics (``modalities.lidar.probe.raw_features``, standardized) from its feature,
  fitted on 3/4 of the scans and scored (mean R^2 over the statistics) on the rest;
  ``nbr_r2`` the same for the mean raw statistics of its occupied 4-neighbours.
- ``pos_r2``: the same for the token's place on the grid (sin/cos of its row and column
  at periods of the grid and half of it): how much of the feature is position, which the
  predictor is told and so can always predict.
- ``probe``: the online probe's linear probe (``C=1``, its split and subsample) on those
  features, so the teacher column reproduces the run's ``probe_miou``.

With ``--mix A,B,...`` it also probes, at each step, the teacher's weights moved back
toward the run's random init, ``init + a * (teacher - init)`` for each ``a`` (the
``mix_<a>`` entries): whether the probe prefers a blend of trained and random weights.
``--average S1,S2,...`` probes the teacher (and the student) with its weights averaged
over the checkpoints of those steps (``average`` entry): whether a longer average of the
trajectory than the EMA's gives better features.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/lidar_locality.py /tmp/lidar6/s6_g025_e60 --name s6_g025
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

RESULTS = Path("benchmarks/results")

#: Token distance (Chebyshev) from which two tokens count as distant.
FAR = 4


def centered_cos(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine similarity of matching rows of ``a`` and ``b``."""
    na = np.linalg.norm(a, axis=1) + 1e-8
    nb = np.linalg.norm(b, axis=1) + 1e-8
    return float(np.mean(np.sum(a * b, axis=1) / (na * nb)))


def pairs(occupied: np.ndarray, grid: tuple[int, int], rng: np.random.Generator,
          n_far: int = 200) -> tuple[list, list]:
    """Index pairs ``(scan, token_a, token_b)`` of occupied neighbours and of distant occupied tokens."""
    h, w = grid
    near, far = [], []
    for s in range(occupied.shape[0]):
        occ = occupied[s].reshape(h, w)
        ys, xs = np.nonzero(occ)
        for y, x in zip(ys, xs):
            if x + 1 < w and occ[y, x + 1]:
                near.append((s, y * w + x, y * w + x + 1))
            if y + 1 < h and occ[y + 1, x]:
                near.append((s, y * w + x, (y + 1) * w + x))
        if len(ys) > 1:
            i = rng.integers(0, len(ys), n_far)
            j = rng.integers(0, len(ys), n_far)
            keep = np.maximum(np.abs(ys[i] - ys[j]), np.abs(xs[i] - xs[j])) >= FAR
            far += [(s, ys[a] * w + xs[a], ys[b] * w + xs[b]) for a, b in zip(i[keep], j[keep])]
    return near, far


def neighbour_mean(raw: np.ndarray, occupied: np.ndarray, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Mean raw statistics of each token's occupied 4-neighbours, and whether it has any."""
    h, w = grid
    r = raw.reshape(raw.shape[0], h, w, -1)
    o = occupied.reshape(occupied.shape[0], h, w, 1).astype(np.float32)
    total, count = np.zeros_like(r), np.zeros_like(o)
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        rs = np.roll(r * o, (dy, dx), axis=(1, 2))
        os_ = np.roll(o, (dy, dx), axis=(1, 2))
        if dy == 1:
            rs[:, 0], os_[:, 0] = 0, 0
        if dy == -1:
            rs[:, -1], os_[:, -1] = 0, 0
        if dx == 1:
            rs[:, :, 0], os_[:, :, 0] = 0, 0
        if dx == -1:
            rs[:, :, -1], os_[:, :, -1] = 0, 0
        total, count = total + rs, count + os_
    mean = total / np.maximum(count, 1)
    return mean.reshape(raw.shape), (count[..., 0] > 0).reshape(occupied.shape)


def ridge_r2(x: np.ndarray, y: np.ndarray, train: np.ndarray, alpha: float = 1.0) -> float:
    """Mean held-out R^2 of a ridge map ``x -> y`` (columns of ``y`` standardized on ``train``)."""
    from sklearn.linear_model import Ridge

    mu, sd = y[train].mean(0), y[train].std(0) + 1e-6
    y = (y - mu) / sd
    xm, xs = x[train].mean(0), x[train].std(0) + 1e-6
    x = (x - xm) / xs
    test = ~train
    pred = Ridge(alpha=alpha).fit(x[train], y[train]).predict(x[test])
    ss_res = ((y[test] - pred) ** 2).sum(0)
    ss_tot = ((y[test] - y[test].mean(0)) ** 2).sum(0) + 1e-12
    return float(np.mean(1 - ss_res / ss_tot))


def measure(features: np.ndarray, raw: np.ndarray, occupied: np.ndarray, grid: tuple[int, int],
            train_scans: np.ndarray, seed: int = 0) -> dict:
    """The locality numbers of per-token ``features [S, N, D]`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    f = features - features[occupied].mean(0)
    near, far = pairs(occupied, grid, rng)
    near, far = np.array(near), np.array(far)
    nbr = centered_cos(f[near[:, 0], near[:, 1]], f[near[:, 0], near[:, 2]])
    dist = centered_cos(f[far[:, 0], far[:, 1]], f[far[:, 0], far[:, 2]])
    scan = np.repeat(np.arange(occupied.shape[0])[:, None], occupied.shape[1], 1)
    rows = occupied.ravel()
    x, y, tr = features.reshape(-1, features.shape[-1])[rows], raw.reshape(-1, raw.shape[-1])[rows], \
        np.isin(scan.ravel()[rows], train_scans)
    nmean, has = neighbour_mean(raw, occupied, grid)
    both = (occupied & has).ravel()
    xn = features.reshape(-1, features.shape[-1])[both]
    yn = nmean.reshape(-1, raw.shape[-1])[both]
    trn = np.isin(scan.ravel()[both], train_scans)
    pos = np.tile(grid_fourier(grid)[None], (occupied.shape[0], 1, 1)).reshape(-1, 8)[rows]
    return {"nbr_cos": round(nbr, 4), "far_cos": round(dist, 4), "smooth": round(nbr - dist, 4),
            "raw_r2": round(ridge_r2(x, y, tr), 4), "nbr_r2": round(ridge_r2(xn, yn, trn), 4),
            "pos_r2": round(ridge_r2(x, pos, tr), 4)}


def grid_fourier(grid: tuple[int, int]) -> np.ndarray:
    """``[H * W, 8]`` sin/cos of each token's row and column at periods ``H``, ``H / 2`` (``W``, ``W / 2``)."""
    h, w = grid
    r, c = np.meshgrid(np.arange(h) / h, np.arange(w) / w, indexing="ij")
    cols = [f(2 * np.pi * k * v) for v in (r, c) for k in (1, 2) for f in (np.sin, np.cos)]
    return np.stack(cols, -1).reshape(h * w, 8)


def kept_weights(run: str, steps: str, cfg, plugin, state) -> Iterator[tuple[int, dict]]:
    """``(step, state dict)`` of the run's random init (step 0), then of its kept checkpoints.

    Args:
        run: a ``lidar_long.py --keep-every N`` run directory.
        steps: comma-separated checkpoint steps, or ``""`` for every kept one.
    """
    from jepa_core.run import build_model
    from jepa_core.train.checkpoint import complete_checkpoints, load_weights, tag_step

    ckpts = Path(run) / "checkpoints"
    tags = {tag_step(t): t for t in complete_checkpoints(ckpts)}
    yield 0, build_model(cfg, plugin, state).state_dict()
    for step in [int(s) for s in steps.split(",") if s] or sorted(tags):
        yield step, load_weights(ckpts, tags[step])


def main() -> None:
    from jepa_core.eval.compare import score_probe
    from jepa_core.eval.embed import encode_dataset
    from jepa_core.run import load_run
    from jepa_core.train.online_probe import OnlineProbe
    from modalities.lidar.demo import demo_root

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--name", required=True)
    p.add_argument("--steps", default="", help="comma-separated checkpoint steps (default: all kept)")
    p.add_argument("--average", default="", help="comma-separated checkpoint steps whose weights to average")
    p.add_argument("--mix", default="", help="comma-separated blends a of init + a * (teacher - init) to probe")
    args = p.parse_args()
    torch.set_num_threads(1)

    loaded = load_run(args.run)
    cfg, plugin, state, model = loaded.cfg, loaded.plugin, loaded.state, loaded.model
    root = demo_root()
    data = plugin.probe_data(str(root / "velodyne"), str(root / "labels"), None, cfg, state)
    probe = OnlineProbe(plugin, data, "linear", max_samples=cfg.logging.probe_samples, batch_size=8,
                        seed=cfg.optim.seed)
    rows = np.array(probe.dataset.indices)
    raw = data.raw_features[rows]
    occupied = raw[..., 0] > 0
    opts = plugin._opts(cfg, state)
    grid = opts.token_grid()
    train_scans = probe.train

    out = []
    for step, weights in kept_weights(args.run, args.steps, cfg, plugin, state):
        init = weights if step == 0 else init
        model.load_state_dict(weights, strict=False)
        row = {"step": step}
        for who, enc in (("teacher", model.target_encoder), ("student", model.encoder)):
            feats = encode_dataset(enc, plugin, probe.dataset, "token", 8, "cpu", progress=False)
            m = measure(feats, raw, occupied, grid, train_scans)
            m["probe"] = round(score_probe("linear", feats, probe.targets, "classification", ("miou",),
                                           probe.train, probe.test)["miou"], 4)
            row[who] = m
        teacher = {k: v.clone() for k, v in model.target_encoder.state_dict().items()}
        start = {k[len("target.encoder."):]: v for k, v in init.items() if k.startswith("target.encoder.")}
        for a in [float(x) for x in args.mix.split(",") if x]:
            blend = {k: start[k] + a * (v - start[k]) if v.is_floating_point() else v for k, v in teacher.items()}
            model.target_encoder.load_state_dict(blend)
            feats = encode_dataset(model.target_encoder, plugin, probe.dataset, "token", 8, "cpu", progress=False)
            row[f"mix_{a:g}"] = round(score_probe("linear", feats, probe.targets, "classification", ("miou",),
                                                  probe.train, probe.test)["miou"], 4)
        model.target_encoder.load_state_dict(teacher)
        print(json.dumps(row), flush=True)
        out.append(row)
    if args.average:
        avg_steps = [int(x) for x in args.average.split(",")]
        states = [load_weights(ckpts, tags[st]) for st in avg_steps]
        mean = {k: sum(st[k].double() for st in states).div(len(states)).to(v.dtype) if v.is_floating_point() else v
                for k, v in states[-1].items()}
        model.load_state_dict(mean, strict=False)
        row = {"average": avg_steps}
        for who, enc in (("teacher", model.target_encoder), ("student", model.encoder)):
            feats = encode_dataset(enc, plugin, probe.dataset, "token", 8, "cpu", progress=False)
            row[who] = {"probe": round(score_probe("linear", feats, probe.targets, "classification", ("miou",),
                                                    probe.train, probe.test)["miou"], 4),
                        **measure(feats, raw, occupied, grid, train_scans)}
        print(json.dumps(row), flush=True)
        out.append(row)
    path = RESULTS / "lidar_locality.json"
    runs = json.loads(path.read_text()) if path.exists() else {}
    runs[args.name] = out
    path.write_text(json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    main()
