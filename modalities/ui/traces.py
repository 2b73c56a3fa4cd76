"""The UI trace format and its reader: recorded user sessions as JSON, validated.

A **session** is one JSON object, written either as one line of a ``.jsonl`` file (one
session per line) or as a whole ``.json`` file (one session, or a list of sessions);
``--data`` is such a file or a folder of them (read recursively, in sorted order)::

    {"app": "shop", "intent": "buy an item",
     "screen_size": [1080, 2400],
     "events": [
       {"t": 0.0, "action": "tap", "x": 540, "y": 200,
        "element": {"role": "search_box", "text": "Search", "id": "search"}},
       {"t": 1.3, "action": "type", "text": "running shoes"},
       {"t": 2.0, "action": "key", "text": "enter"},
       {"t": 3.1, "action": "scroll", "x": 540, "y": 1600, "x2": 540, "y2": 600},
       {"t": 4.0, "action": "tap", "bbox": [100, 700, 980, 900],
        "element": {"role": "list_item", "text": "Trail runner 2", "id": "result_1"}},
       {"t": 5.2, "action": "navigate", "text": "back"}],
     "screens": ["shots/0.png", "shots/1.png", null, null, "shots/4.png", null]}

Events:

- ``t`` (required): seconds (any unit) since any origin; never decreasing within a session.
- ``action`` (required): one of :data:`ACTIONS` (``tap``, ``long_press``, ``type``,
  ``scroll``, ``swipe``, ``key``, ``navigate``).
- where: ``x``, ``y`` (a point) or ``bbox: [x0, y0, x1, y1]`` (its centre is the point);
  required for ``tap``, ``long_press``, ``scroll`` and ``swipe``, optional otherwise.
  ``scroll``/``swipe`` may give the end point ``x2``, ``y2``. Coordinates are fractions
  of the screen in ``[0, 1]``, or pixels when the session has ``screen_size: [width,
  height]``.
- ``text`` (optional): what was typed (``type``), the key (``key``), where it went
  (``navigate``: ``back``, ``home``, a URL...).
- ``element`` (optional): the widget acted on, ``{role, text, id}`` (all optional strings).

Session fields: ``events`` (required, non-empty), ``screens`` (optional: one screenshot
path or ``null`` per event, relative to the file's folder; every path must exist),
``screen_size`` (optional) and any free fields (``intent``, ``app``, ...) that
``jepa probe --label FIELD`` and ``jepa decode --label FIELD`` read.

Every error names the file and, for ``.jsonl``, the line (and the event's index).

A ``.jsonl`` file of Android in the Wild step records (TFRecord features decoded to
JSON, one step per line) is read too, one session per episode: see :mod:`.aitw`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jepa_core.modality import DataError

#: The actions an event may have, in the order of their embedding ids.
ACTIONS = ("tap", "long_press", "type", "scroll", "swipe", "key", "navigate")
#: Actions that happen somewhere on the screen, so need ``x, y`` or ``bbox``.
POINTED = frozenset({"tap", "long_press", "scroll", "swipe"})
SUFFIXES = (".jsonl", ".json")
RESERVED = frozenset({"events", "screens", "screen_size"})


@dataclass
class Event:
    """One validated event; coordinates are fractions of the screen (``None``: not given)."""

    t: float
    action: str
    x: float | None = None
    y: float | None = None
    x2: float | None = None
    y2: float | None = None
    box: tuple[float, float] | None = None  # width, height of the bbox
    text: str = ""
    role: str = ""
    element_text: str = ""
    element_id: str = ""
    screen: str | None = None  # absolute path of the screenshot


@dataclass
class Session:
    """A validated session: its events, its free fields, and where it was read."""

    events: list[Event]
    fields: dict[str, Any] = field(default_factory=dict)
    where: str = ""


def list_trace_files(path: str | Path) -> list[Path]:
    """The trace files of ``path``: itself, or every ``.jsonl``/``.json`` under a folder."""
    p = Path(path)
    if p.is_file():
        if p.suffix.lower() not in SUFFIXES:
            raise DataError(f"{p}: not a trace file (expected .jsonl or .json sessions)")
        return [p]
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
        if not files:
            raise DataError(f"{p}: folder holds no .jsonl or .json trace file")
        return files
    raise DataError(f"{p}: no such file or folder (expected UI traces: .jsonl/.json sessions)")


def read_sessions(path: str | Path) -> list[Session]:
    """Read and validate every session under ``path`` (a file or a folder).

    Raises:
        DataError: naming the file and line: malformed JSON, a session that is not an
            object or has no events, an unknown action, missing or out-of-range
            coordinates, times going backwards, a screenshot that does not exist.
    """
    sessions: list[Session] = []
    for file in list_trace_files(path):
        sessions += read_file(file)
    if not sessions:
        raise DataError(f"{path}: holds no session")
    return sessions


def read_file(path: Path) -> list[Session]:
    """The sessions of one ``.jsonl`` or ``.json`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot be read as UTF-8 text ({e})") from None
    if path.suffix.lower() == ".json":
        try:
            item = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {e.lineno}: malformed JSON ({e.msg})") from None
        items = item if isinstance(item, list) else [item]
        many = isinstance(item, list)
        return [parse_session(it, path, f"{path}: session {i}" if many else f"{path}")
                for i, it in enumerate(items)]
    items = []
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append((no, json.loads(line)))
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {no}: malformed JSON ({e.msg}, column {e.colno})") from None
    from .aitw import aitw_sessions, is_aitw

    if items and is_aitw(items[0][1]):  # Android in the Wild steps, one per line
        return aitw_sessions(items, path)
    return [parse_session(item, path, f"{path}: line {no}") for no, item in items]


def _number(value: Any, what: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"{where}: {what} must be a finite number, got {value!r}")
    return float(value)


def _screen_size(item: dict, where: str) -> tuple[float, float] | None:
    size = item.get("screen_size")
    if size is None:
        return None
    if not isinstance(size, (list, tuple)) or len(size) != 2:
        raise DataError(f"{where}: screen_size must be [width, height] in pixels, got {size!r}")
    w, h = (_number(v, "screen_size", where) for v in size)
    if w <= 0 or h <= 0:
        raise DataError(f"{where}: screen_size must be positive, got {size!r}")
    return w, h


def _point(ev: dict, keys: tuple[str, str], size: tuple[float, float] | None,
           where: str) -> tuple[float | None, float | None]:
    if keys[0] not in ev and keys[1] not in ev:
        return None, None
    if keys[0] not in ev or keys[1] not in ev:
        raise DataError(f"{where}: needs both {keys[0]!r} and {keys[1]!r}")
    x, y = (_number(ev[k], k, where) for k in keys)
    return _normalized(x, y, size, where)


def _normalized(x: float, y: float, size: tuple[float, float] | None,
                where: str) -> tuple[float, float]:
    if size is not None:
        x, y = x / size[0], y / size[1]
    if not (-0.01 <= x <= 1.01 and -0.01 <= y <= 1.01):
        hint = ("outside the session's screen_size" if size is not None else
                "coordinates are fractions of the screen in [0, 1] unless the session gives "
                "screen_size: [width, height] in pixels")
        raise DataError(f"{where}: point ({x:g}, {y:g}) is off the screen ({hint})")
    return min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)


def _string(value: Any, what: str, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise DataError(f"{where}: {what} must be a string, got {value!r}")
    return str(value)


def parse_event(ev: Any, size: tuple[float, float] | None, where: str) -> Event:
    """Validate one event object (``where`` names its file, line and index)."""
    if not isinstance(ev, dict):
        raise DataError(f"{where}: an event must be an object, got {type(ev).__name__}")
    if "t" not in ev:
        raise DataError(f"{where}: has no time 't'")
    t = _number(ev["t"], "'t'", where)
    action = ev.get("action")
    if action not in ACTIONS:
        raise DataError(f"{where}: unknown action {action!r} (expected one of {', '.join(ACTIONS)})")
    x, y = _point(ev, ("x", "y"), size, where)
    box = None
    if "bbox" in ev:
        b = ev["bbox"]
        if not isinstance(b, (list, tuple)) or len(b) != 4:
            raise DataError(f"{where}: bbox must be [x0, y0, x1, y1], got {b!r}")
        x0, y0, x1, y1 = (_number(v, "bbox", where) for v in b)
        x0, y0 = _normalized(x0, y0, size, where)
        x1, y1 = _normalized(x1, y1, size, where)
        if x1 < x0 or y1 < y0:
            raise DataError(f"{where}: bbox [x0, y0, x1, y1] needs x1 >= x0 and y1 >= y0, got {b!r}")
        box = (x1 - x0, y1 - y0)
        if x is None:
            x, y = (x0 + x1) / 2, (y0 + y1) / 2
    if action in POINTED and x is None:
        raise DataError(f"{where}: a {action!r} event needs coordinates: 'x' and 'y', or 'bbox'")
    x2, y2 = _point(ev, ("x2", "y2"), size, where)
    element = ev.get("element") or {}
    if not isinstance(element, dict):
        raise DataError(f"{where}: element must be an object {{role, text, id}}, got {element!r}")
    return Event(t=t, action=action, x=x, y=y, x2=x2, y2=y2, box=box,
                 text=_string(ev.get("text"), "'text'", where),
                 role=_string(element.get("role"), "element.role", where),
                 element_text=_string(element.get("text"), "element.text", where),
                 element_id=_string(element.get("id"), "element.id", where))


def parse_session(item: Any, path: Path, where: str) -> Session:
    """Validate one session object read from ``path`` (``where``: file and line)."""
    if not isinstance(item, dict):
        raise DataError(f"{where}: a session must be a JSON object with 'events', got "
                        f"{type(item).__name__}")
    events = item.get("events")
    if not isinstance(events, list) or not events:
        raise DataError(f"{where}: session has no events (expected a non-empty list 'events')")
    size = _screen_size(item, where)
    parsed = [parse_event(ev, size, f"{where}: event {i}") for i, ev in enumerate(events)]
    for i in range(1, len(parsed)):
        if parsed[i].t < parsed[i - 1].t:
            raise DataError(f"{where}: event {i}: time goes backwards ({parsed[i].t:g} after "
                            f"{parsed[i - 1].t:g}); events must be in time order")
    screens = item.get("screens")
    if screens is not None:
        if not isinstance(screens, list) or len(screens) != len(parsed):
            raise DataError(f"{where}: screens must be a list of one path (or null) per event "
                            f"({len(parsed)}), got {screens!r:.80}")
        for i, (ev, rel) in enumerate(zip(parsed, screens)):
            if rel is None:
                continue
            if not isinstance(rel, str) or not rel:
                raise DataError(f"{where}: screens[{i}] must be a path or null, got {rel!r}")
            shot = (path.parent / rel).resolve()
            if not shot.is_file():
                raise DataError(f"{where}: screens[{i}]: screenshot {rel!r} does not exist "
                                f"(looked for {shot}; paths are relative to the trace file)")
            ev.screen = str(shot)
    fields = {k: v for k, v in item.items() if k not in RESERVED}
    return Session(parsed, fields, where)


def write_sessions(sessions: list[dict], path: str | Path) -> Path:
    """Write session objects as JSON lines, atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(s, separators=(",", ":")) + "\n" for s in sessions),
                   encoding="utf-8")
    tmp.replace(path)
    return path
