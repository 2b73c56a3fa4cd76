"""Android in the Wild (AitW) step records as sessions of the ui trace format.

AitW stores one TFRecord example per *step*; decoded to JSON (one object per line, the
TFRecord feature names as keys, lists as lists), a ``.jsonl`` file whose lines carry
``results/action_type`` is read as AitW steps. The fields used (from the dataset's
published field list):

- ``episode_id``, ``step_id``: steps are grouped into one session per episode, ordered
  by step; ``t`` is the step number (AitW has no timestamps);
- ``goal_info``: the instruction, the session's ``intent`` field;
- ``results/action_type``: 4 dual point (a ``tap`` when touch and lift lie within 0.04
  of each other, as in AitW's action matching, else a ``swipe``), 3 ``type``
  (``results/type_action`` is the text), 5/6 ``navigate`` back/home, 7 ``key`` enter,
  10/11 the episode's status (kept as the session field ``status``, no event);
- ``results/yx_touch``, ``results/yx_lift``: ``(y, x)`` as fractions of the screen;
- ``image/ui_annotations_positions`` (flattened ``(y, x, height, width)``),
  ``image/ui_annotations_text`` and ``image/ui_annotations_ui_types``: the smallest
  annotated element containing the touch point gives ``element.role`` and ``.text``;
- ``device_type``, ``current_activity`` of the first step become session fields.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from jepa_core.modality import DataError

from .traces import Session, parse_session

ACTION_KEY = "results/action_type"
TYPE, DUAL_POINT, BACK, HOME, ENTER, COMPLETE, IMPOSSIBLE = 3, 4, 5, 6, 7, 10, 11
TAP_DISTANCE = 0.04


def is_aitw(item: Any) -> bool:
    """Whether a decoded JSON object is an AitW step record."""
    return isinstance(item, dict) and ACTION_KEY in item


def _scalar(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _text(value: Any) -> str:
    value = _scalar(value)
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ("" if value is None else str(value))


def _yx(record: dict, key: str, where: str) -> tuple[float, float]:
    v = record.get(key)
    if not isinstance(v, list) or len(v) != 2 or not all(isinstance(c, (int, float)) for c in v):
        raise DataError(f"{where}: {key!r} must be [y, x] (fractions of the screen), got {v!r}")
    return float(v[0]), float(v[1])


def _element(record: dict, y: float, x: float) -> dict:
    """The smallest annotated UI element containing ``(y, x)`` (role, text), or {}."""
    pos = record.get("image/ui_annotations_positions") or []
    texts = record.get("image/ui_annotations_text") or []
    types = record.get("image/ui_annotations_ui_types") or []
    best, area = {}, math.inf
    for i in range(len(pos) // 4):
        top, left, h, w = (float(v) for v in pos[4 * i:4 * i + 4])
        if top <= y <= top + h and left <= x <= left + w and h * w < area:
            area = h * w
            best = {"role": _text(types[i]) if i < len(types) else "",
                    "text": _text(texts[i]) if i < len(texts) else ""}
    return best


def step_event(record: dict, where: str) -> dict | None:
    """One AitW step as a trace event (``None`` for a status step)."""
    kind = _scalar(record.get(ACTION_KEY))
    t = float(_scalar(record.get("step_id", 0)))
    if kind == DUAL_POINT:
        (y, x), (y2, x2) = _yx(record, "results/yx_touch", where), _yx(record, "results/yx_lift", where)
        tap = math.hypot(y2 - y, x2 - x) <= TAP_DISTANCE
        ev = {"t": t, "action": "tap" if tap else "swipe", "x": x, "y": y}
        if not tap:
            ev.update(x2=x2, y2=y2)
        element = _element(record, y, x)
        return {**ev, "element": element} if element else ev
    if kind == TYPE:
        return {"t": t, "action": "type", "text": _text(record.get("results/type_action"))}
    if kind in (BACK, HOME):
        return {"t": t, "action": "navigate", "text": "back" if kind == BACK else "home"}
    if kind == ENTER:
        return {"t": t, "action": "key", "text": "enter"}
    if kind in (COMPLETE, IMPOSSIBLE):
        return None
    raise DataError(f"{where}: unknown AitW {ACTION_KEY} {kind!r} (expected 3, 4, 5, 6, 7, 10 or 11)")


def aitw_sessions(records: list[tuple[int, dict]], path: Path) -> list[Session]:
    """Group ``(line number, step record)`` pairs by episode into validated sessions."""
    episodes: dict[str, list[tuple[int, dict]]] = {}
    for no, rec in records:
        if not is_aitw(rec):
            raise DataError(f"{path}: line {no}: not an AitW step record (no {ACTION_KEY!r}), "
                            f"in a file of AitW steps")
        episodes.setdefault(_text(rec.get("episode_id")), []).append((no, rec))
    sessions = []
    for episode, steps in episodes.items():
        steps.sort(key=lambda s: float(_scalar(s[1].get("step_id", 0))))
        first_no, first = steps[0]
        events, status = [], None
        for no, rec in steps:
            ev = step_event(rec, f"{path}: line {no}")
            if ev is None:
                status = "complete" if _scalar(rec.get(ACTION_KEY)) == COMPLETE else "impossible"
            else:
                events.append(ev)
        item = {"episode_id": episode, "intent": _text(first.get("goal_info")), "events": events,
                "device_type": _text(first.get("device_type")),
                "current_activity": _text(first.get("current_activity"))}
        if status:
            item["status"] = status
        sessions.append(parse_session(item, path, f"{path}: line {first_no} (AitW episode {episode})"))
    return sessions
