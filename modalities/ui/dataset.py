"""Sessions to per-event tensors, the fitted state, padding into batches, the raw baseline."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from jepa_core.modality import DataError

from .options import UIOptions
from .text import hash_ngrams, load_text_tokenizer, token_ids
from .traces import ACTIONS, Session

#: Columns of an event's continuous features (``feats``), in order.
FEATURES = ("x", "y", "has_point", "dx", "dy", "box_w", "box_h", "log_gap", "elapsed")
ACTION_ID = {a: i for i, a in enumerate(ACTIONS)}


def fit_state(sessions: list[Session], opts: UIOptions) -> dict:
    """What a run remembers of its pretraining data: roles, time scale, longest session.

    Returns:
        JSON-serializable ``{"roles", "has_screens", "text_vocab", "time_scale",
        "max_events"}``; role id 0 is "none or unseen", the kept roles are ids ``1..``;
        ``text_vocab`` is the size of ``options.text_tokenizer``'s vocabulary (0 without).
    """
    roles = Counter(ev.role for s in sessions for ev in s.events if ev.role)
    gaps = np.concatenate([np.diff([ev.t for ev in s.events]) for s in sessions])
    gaps = gaps[gaps > 0]
    longest = max(len(s.events) for s in sessions)
    return {"roles": [r for r, _ in roles.most_common(opts.max_roles)],
            "has_screens": bool(opts.screens and any(ev.screen for s in sessions for ev in s.events)),
            "text_vocab": len(load_text_tokenizer(opts.text_tokenizer)) if opts.text_tokenizer else 0,
            "time_scale": float(np.median(gaps)) if len(gaps) else 1.0,
            "max_events": int(opts.max_events or longest)}


def check_lengths(sessions: list[Session], state: dict) -> None:
    """Every session fits the run's ``max_events``, else a DataError naming it."""
    limit = state["max_events"]
    for s in sessions:
        if len(s.events) > limit:
            raise DataError(f"{s.where}: session has {len(s.events)} events, more than the run's "
                            f"max_events {limit} (set options.max_events when pretraining; "
                            f"sessions are never truncated)")


def encode_session(session: Session, state: dict, opts: UIOptions) -> dict[str, Tensor]:
    """One session as tensors: ``action``/``role`` ``[L]``, ``feats`` ``[L, F]``,
    ``coords`` ``[L, 3]`` (time, x, y in position units), ``grams`` ``[L, G]`` (n-gram
    buckets, or token ids of ``options.text_tokenizer``; 0: padding)."""
    roles = {r: i + 1 for i, r in enumerate(state["roles"])}
    scale, xy = state["time_scale"], opts.xy_scale
    t0 = session.events[0].t
    span = (session.events[-1].t - t0) if opts.elapsed else 0.0
    last_x, last_y, prev_t = 0.5, 0.5, t0
    action, role, feats, coords, grams = [], [], [], [], []
    sizes, chars, buckets = opts.ngram_sizes, opts.max_text_chars, opts.text_buckets
    tokenizer = load_text_tokenizer(opts.text_tokenizer) if opts.text_tokenizer else None
    for ev in session.events:
        action.append(ACTION_ID[ev.action])
        role.append(roles.get(ev.role, 0))
        has = ev.x is not None
        if has:
            last_x, last_y = ev.x, ev.y
        dx = (ev.x2 - last_x) if ev.x2 is not None else 0.0
        dy = (ev.y2 - last_y) if ev.y2 is not None else 0.0
        bw, bh = ev.box or (0.0, 0.0)
        feats.append([last_x - 0.5, last_y - 0.5, float(has), dx, dy, bw, bh,
                      math.log1p((ev.t - prev_t) / scale), (ev.t - t0) / span if span > 0 else 0.0])
        coords.append([(ev.t - t0) / scale, last_x * xy, last_y * xy])
        prev_t = ev.t
        texts = (ev.element_text, ev.text, ev.element_id.replace("_", " "))
        if tokenizer is not None:
            grams.append([i for text in texts for i in token_ids(tokenizer, text, chars)])
        else:
            grams.append([i for text, salt in zip(texts, ("e:", "t:", "i:"))
                          for i in hash_ngrams(text, sizes, chars, buckets, salt)])
    width = max(1, max(len(g) for g in grams))
    padded = [g + [0] * (width - len(g)) for g in grams]
    out = {"action": torch.tensor(action, dtype=torch.int64), "role": torch.tensor(role, dtype=torch.int64),
            "feats": torch.tensor(feats, dtype=torch.float32), "coords": torch.tensor(coords, dtype=torch.float32),
            "grams": torch.tensor(padded, dtype=torch.int64)}
    if state.get("has_screens"):
        out["screen"], out["has_screen"] = read_screens(session, opts.screen_size)
    return out


def read_screens(session: Session, size: int) -> tuple[Tensor, Tensor]:
    """Each event's screenshot resized to ``size x size`` RGB (zeros where it has none).

    Shapes:
        -> ``screen`` uint8 ``[L, 3, size, size]``, ``has_screen`` bool ``[L]``.
    """
    from PIL import Image, UnidentifiedImageError

    screen = torch.zeros(len(session.events), 3, size, size, dtype=torch.uint8)
    has = torch.zeros(len(session.events), dtype=torch.bool)
    for i, ev in enumerate(session.events):
        if not ev.screen:
            continue
        try:
            with Image.open(ev.screen) as img:
                pixels = np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR))
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"{session.where}: event {i}: screenshot {ev.screen} cannot be read "
                            f"as an image ({e})") from None
        screen[i] = torch.from_numpy(pixels.copy()).permute(2, 0, 1)
        has[i] = True
    return screen, has


class UIDataset(Dataset):
    """Encoded sessions (tensors, see :func:`encode_session`), encoded once when built."""

    def __init__(self, sessions: list[Session], state: dict, opts: UIOptions) -> None:
        self.sessions = sessions
        self.items = [encode_session(s, state, opts) for s in sessions]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        return self.items[i]

    def subset(self, indices) -> "UIDataset":
        out = UIDataset.__new__(UIDataset)
        out.sessions = [self.sessions[i] for i in indices]
        out.items = [self.items[i] for i in indices]
        return out


def collate(samples: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Pad to the batch's longest session (and widest n-gram list); ``valid`` marks events.

    Shapes:
        -> ``action``/``role`` ``[B, N]``, ``feats`` ``[B, N, F]``, ``coords`` ``[B, N, 3]``,
        ``grams`` ``[B, N, G]``, ``valid`` ``[B, N]`` bool.
    """
    b = len(samples)
    n = max(len(s["action"]) for s in samples)
    g = max(s["grams"].shape[1] for s in samples)
    out = {"action": torch.zeros(b, n, dtype=torch.int64), "role": torch.zeros(b, n, dtype=torch.int64),
           "feats": torch.zeros(b, n, samples[0]["feats"].shape[1]), "coords": torch.zeros(b, n, 3),
           "grams": torch.zeros(b, n, g, dtype=torch.int64), "valid": torch.zeros(b, n, dtype=torch.bool)}
    if "screen" in samples[0]:
        size = samples[0]["screen"].shape[-1]
        out["screen"] = torch.zeros(b, n, 3, size, size, dtype=torch.uint8)
        out["has_screen"] = torch.zeros(b, n, dtype=torch.bool)
    for i, s in enumerate(samples):
        k = len(s["action"])
        if "screen" in s:
            out["screen"][i, :k], out["has_screen"][i, :k] = s["screen"], s["has_screen"]
        out["action"][i, :k], out["role"][i, :k] = s["action"], s["role"]
        out["feats"][i, :k], out["coords"][i, :k] = s["feats"], s["coords"]
        out["grams"][i, :k, :s["grams"].shape[1]] = s["grams"]
        out["valid"][i, :k] = True
    return out


def _event_stats(events: list, roles: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The share of each action type and of each role (0: unknown) among ``events``, and
    their touch points ``[P, 2]``."""
    n = len(events)
    acts = np.bincount([ACTION_ID[e.action] for e in events], minlength=len(ACTIONS)) / n
    rls = np.bincount([roles.get(e.role, 0) for e in events], minlength=len(roles) + 1) / n
    pts = np.array([(e.x, e.y) for e in events if e.x is not None]).reshape(-1, 2)
    return acts, rls, pts


def raw_features(sessions: list[Session], state: dict, last_events: int = 0) -> np.ndarray:
    """The probe's raw baseline per session: the share of each action type and of each
    fitted role, mean and std of the touch points, log event count and log duration.

    With ``last_events = k > 0`` the same shares and mean touch point over the last ``k``
    events follow: the baseline read like the pooling that adds the mean of the last
    ``k`` event tokens (``ui_segments`` with ``last_events``).

    Shapes:
        -> ``[S, len(ACTIONS) + len(roles) + 1 + 6]`` (``+ len(ACTIONS) + len(roles) + 3``
        with ``last_events``).
    """
    roles = {r: i + 1 for i, r in enumerate(state["roles"])}
    rows = []
    for s in sessions:
        acts, rls, pts = _event_stats(s.events, roles)
        xy = np.concatenate([pts.mean(0), pts.std(0)]) if len(pts) else np.full(4, 0.5)
        row = [acts, rls, xy, [math.log(len(s.events)), math.log1p(s.events[-1].t - s.events[0].t)]]
        if last_events:
            end_acts, end_rls, end_pts = _event_stats(s.events[-last_events:], roles)
            row += [end_acts, end_rls, end_pts.mean(0) if len(end_pts) else np.full(2, 0.5)]
        rows.append(np.concatenate(row))
    return np.stack(rows)
