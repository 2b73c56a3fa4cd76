"""The ui modality plugin: recorded user sessions (UI traces) to one token per event."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from jepa_core.config import Config
from jepa_core.modality import DataError, ModalityPlugin, ProbeData

from .dataset import UIDataset, check_lengths, collate, fit_state, raw_features
from .demo import demo_path
from .options import UIOptions
from .tokenizer import EventTokenizer
from .traces import Session, read_sessions


class UIModality(ModalityPlugin):
    """UI traces (``.jsonl``/``.json`` sessions, see :mod:`modalities.ui.traces`) as event tokens.

    ``--data`` is a trace file or a folder of them. Each event is one token placed by
    its time and screen point (no grid; :class:`~modalities.ui.tokenizer.EventTokenizer`).
    ``embed`` writes one mean-pooled vector per session. ``probe --label FIELD`` classifies
    sessions by a field of each (``intent``, ``app``, ...); the raw baseline is the share
    of each action type and element role, the mean and spread of the touch points, the
    event count and the duration (:func:`~modalities.ui.dataset.raw_features`).
    """

    name = "ui"
    options_class = UIOptions
    embedding_level = "sample"
    DEMO_LABEL = "intent"

    def default_config(self) -> dict:
        """Span masks over events, a contrastive pooled target, a fast EMA teacher, a
        128-wide, 3-block encoder (a couple of minutes on a 2-core CPU for the demo).

        Two contiguous spans of 40% of the events in all are predicted from the other
        events (``ui_span``), the second ending at the session's last event (``tail``), so
        the context must also say how the session ends. Beside the per-event latent loss,
        the core ``pooled_target`` method scores the pooled context against the pooled
        teacher tokens of the masked events with InfoNCE over the batch's sessions
        (``target: masked``, ``temperature: 0.1``): each session's visible events must
        pick out how that session ends. ``mask.name=ui_future`` predicts the last 20-40%
        of a session from the events before it instead (UI-JEPA's temporal masking). The
        EMA teacher's momentum runs from 0.97 to 0.995 (I-JEPA's 0.996 barely moves the
        teacher in the few hundred steps of a CPU run, and the probes read the teacher). As
        in the image plugin, VICReg's covariance term and a variance hinge on the context
        embeddings are added to the latent loss. The settings tried and their numbers are
        in ``benchmarks/results/ui_probe.md``.
        """
        return {
            "data": {"batch_size": 64},
            "mask": {"name": "ui_span", "num_spans": 2, "span_ratio": 0.4, "tail": True},
            "method": {"name": "pooled_target", "target": "masked", "temperature": 0.1},
            "model": {"dim": 128, "depth": 3, "heads": 4, "predictor_dim": 128,
                      "predictor_depth": 2, "predictor_heads": 4, "pooling": "mean"},
            "target": {"kind": "ema", "momentum": [0.97, 0.995]},
            "objective": {"loss": "smooth_l1", "normalize_targets": True,
                          "vicreg_covariance": 1.0, "variance_hinge": 1.0},
            "optim": {"epochs": 30, "lr": 1e-3, "min_lr": 1e-5, "warmup": 0.05},
        }

    def demo_data(self) -> str:
        return str(demo_path())

    def demo_label(self, path: str | None) -> str | None:
        """``intent`` when ``path`` is the demo's trace file (without creating it)."""
        from jepa_core.demo_cache import cache_root

        from .demo import VERSION

        demo = cache_root() / f"ui_sessions_v{VERSION}" / "sessions.jsonl"
        return self.DEMO_LABEL if path and Path(path).resolve() == demo.resolve() else None

    def _opts(self, cfg: Config, state: dict | None) -> UIOptions:
        return self.checked_options(cfg, state)

    def read(self, path: str, cfg: Config, state: dict | None) -> tuple[list[Session], dict, UIOptions]:
        """Validated sessions, the (new or given) state and the options."""
        opts = self._opts(cfg, state)
        if state is None and opts.text_tokenizer:  # the run keeps the folder's full path
            opts.text_tokenizer = str(Path(opts.text_tokenizer).expanduser().resolve())
        sessions = read_sessions(path)
        if state is None:
            state = {"options": dataclasses.asdict(opts), **fit_state(sessions, opts)}
        check_lengths(sessions, state)
        return sessions, state, opts

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[UIDataset, dict]:
        sessions, state, opts = self.read(path, cfg, state)
        return UIDataset(sessions, state, opts), state

    def describe_state(self, state: dict) -> str | None:
        return (f"ui: {len(state['roles'])} element roles, sessions of up to {state['max_events']} "
                f"events, time unit {state['time_scale']:.3g}")

    def build_tokenizer(self, cfg: Config, state: dict) -> EventTokenizer:
        return EventTokenizer(self._opts(cfg, state), len(state["roles"]), cfg.model.dim,
                              screens=bool(state.get("has_screens")),
                              text_vocab=int(state.get("text_vocab", 0)))

    def collate(self, samples: list) -> dict:
        return collate(samples)

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        sessions, state, opts = self.read(path, cfg, state)
        values = session_labels(sessions, label)
        task = task or "classification"
        if task == "classification":
            classes = sorted({str(v) for v in values})
            if len(classes) < 2:
                raise DataError(f"{path}: field {label!r} has a single value {classes}; a probe "
                                f"needs two classes or more")
            targets = np.array([classes.index(str(v)) for v in values])
        else:
            try:
                targets = np.asarray(values, dtype=np.float64)
            except (TypeError, ValueError):
                raise DataError(f"{path}: field {label!r} is not numeric (--task regression)") from None
        pool = cfg.pooling  # the raw baseline reads the end of a session as the pooling does
        last_events = int(getattr(pool, "last_events", 0)) if getattr(pool, "last", False) else 0
        return ProbeData(UIDataset(sessions, state, opts), targets,
                         raw_features(sessions, state, last_events=last_events), task,
                         "accuracy" if task == "classification" else "r2")


def session_labels(sessions: list[Session], label: str) -> list:
    """The ``label`` field of every session, or a DataError naming the sessions without it."""
    missing = [s.where for s in sessions if s.fields.get(label) is None]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        known = sorted({k for s in sessions for k in s.fields})
        raise DataError(f"{missing[0]}: session has no field {label!r}{more}; fields seen: "
                        f"{', '.join(known) or 'none'}")
    return [s.fields[label] for s in sessions]
