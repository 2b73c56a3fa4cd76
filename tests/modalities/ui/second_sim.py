"""A second session simulator, written apart from the plugin's: traces the project never saw.

Other apps (bank, food delivery, music, calendar) on a landscape tablet, with pixel
coordinates (``screen_size``), taps given as element boxes (``bbox``) rather than points,
other role names, a navigation rail on the left, and its own intents, noise and timing.
Most sessions first do (or begin and give up) another task of the same app: the intent
is the task a session ends with.
The tests and ``benchmarks/bench_ui_probe.py`` pretrain and probe on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

W, H = 2560, 1600
RAIL = {f"rail_{n}": ("nav", n.title(), [0, 200 + 220 * i, 180, 400 + 220 * i])
        for i, n in enumerate(["home", "search", "library", "account"])}


def _grid(prefix: str, role: str, texts: list[str], x0: int = 240, y0: int = 300) -> dict:
    return {f"{prefix}{i}": (role, t, [x0 + 560 * (i % 4), y0 + 300 * (i // 4),
                                       x0 + 520 + 560 * (i % 4), y0 + 260 + 300 * (i // 4)])
            for i, t in enumerate(texts)}


APPS = {
    "bank": {**RAIL, **_grid("acct", "card", ["Checking", "Savings", "Credit card", "Loans"]),
             "transfer": ("btn", "Transfer", [2000, 60, 2300, 160]),
             "amount": ("textbox", "Amount", [700, 900, 1800, 1000]),
             "payee": ("textbox", "To", [700, 760, 1800, 860]),
             "confirm": ("btn", "Confirm", [1500, 1200, 1800, 1300]),
             "bills": ("tab", "Bills", [240, 140, 500, 220]),
             "bill0": ("row", "Electricity", [240, 700, 2400, 800]),
             "pay": ("btn", "Pay bill", [2000, 1400, 2400, 1500]),
             "statement": ("link", "Statement", [240, 1000, 700, 1080])},
    "food": {**RAIL, **_grid("rest", "card", ["Sushi bar", "Burger place", "Taco stand", "Noodle house",
                                              "Pizza oven", "Salad shop", "Curry corner", "Bakery"]),
             "dish0": ("row", "Special", [240, 400, 1400, 500]),
             "dish1": ("row", "Combo", [240, 520, 1400, 620]),
             "add": ("btn", "Add", [1450, 400, 1650, 500]),
             "basket": ("btn", "Basket", [2200, 60, 2450, 160]),
             "place_order": ("btn", "Place order", [1900, 1400, 2450, 1520]),
             "history": ("tab", "Past orders", [240, 140, 600, 220]),
             "reorder": ("btn", "Order again", [1900, 700, 2400, 800])},
    "music": {**RAIL, **_grid("track", "row", ["Song A", "Song B", "Song C", "Song D", "Song E"]),
              "play": ("btn", "Play", [1200, 1400, 1360, 1540]),
              "next": ("btn", "Next", [1400, 1400, 1560, 1540]),
              "new_list": ("btn", "New playlist", [2000, 60, 2450, 160]),
              "list_name": ("textbox", "Name", [700, 600, 1800, 700]),
              "save": ("btn", "Save", [1500, 760, 1800, 860]),
              "add_to_list": ("menu", "Add to playlist", [1900, 300, 2400, 380])},
    "calendar": {**RAIL, **_grid("day", "cell", [f"Day {d}" for d in range(1, 15)], 240, 200),
                 "new_event": ("btn", "New event", [2100, 60, 2450, 160]),
                 "title": ("textbox", "Title", [700, 400, 1800, 500]),
                 "guests": ("textbox", "Guests", [700, 560, 1800, 660]),
                 "done": ("btn", "Done", [1500, 1300, 1800, 1400]),
                 "week": ("tab", "Week", [240, 120, 460, 190])},
}
WORDS = ["alex", "sam", "rent", "dinner", "team sync", "gym", "dentist", "mom", "road trip",
         "focus", "party", "lunch", "study", "chill mix", "workout", "kim", "lee"]

INTENTS = {
    "transfer money": ("bank", [("tap", "transfer"), ("tap", "payee"), ("type", None),
                                ("tap", "amount"), ("type", "#"), ("tap", "confirm")]),
    "check the balance": ("bank", [("tap", "acct*"), ("scroll", None), ("tap", "statement")]),
    "pay a bill": ("bank", [("tap", "bills"), ("tap", "bill0"), ("tap", "pay"), ("tap", "confirm")]),
    "order food": ("food", [("tap", "rest*"), ("tap", "dish*"), ("tap", "add"), ("tap", "basket"),
                            ("tap", "place_order")]),
    "reorder a meal": ("food", [("tap", "history"), ("scroll", None), ("tap", "reorder"),
                                ("tap", "place_order")]),
    "play music": ("music", [("tap", "rail_library"), ("tap", "track*"), ("tap", "play"),
                             ("tap", "next")]),
    "make a playlist": ("music", [("tap", "new_list"), ("tap", "list_name"), ("type", None),
                                  ("tap", "save"), ("long", "track*"), ("tap", "add_to_list")]),
    "add a calendar event": ("calendar", [("tap", "day*"), ("tap", "new_event"), ("tap", "title"),
                                          ("type", None), ("tap", "guests"), ("type", None),
                                          ("tap", "done")]),
}


def _session(intent: str, rng: np.random.Generator, side_task: float = 0.6) -> dict:
    app, steps = INTENTS[intent]
    others = [st for name, (a, st) in INTENTS.items() if a == app and name != intent]
    screen = APPS[app]
    events, t = [], float(rng.uniform(0, 100))
    pace = float(rng.uniform(0.5, 2.0))

    def emit(ev: dict, gap: float = 1.0) -> None:
        nonlocal t
        t += pace * float(rng.exponential(gap)) + 0.1
        events.append({"t": round(t, 2), **ev})

    def touch(name: str, action: str = "tap") -> None:
        if name.endswith("*"):
            choices = [k for k in screen if k.startswith(name[:-1])]
            name = choices[int(rng.integers(len(choices)))]
        role, text, box = screen[name]
        j = rng.integers(-8, 9, 4)
        bbox = [int(min(max(v + d, 0), lim)) for v, d, lim in zip(box, j, (W, H, W, H))]
        emit({"action": action, "bbox": bbox, "element": {"role": role, "text": text, "id": name}})

    emit({"action": "navigate", "text": f"open {app}"}, 0.2)
    plan = list(steps)
    if others and rng.random() < side_task:  # another task of the app first, done or given up
        side = others[int(rng.integers(len(others)))]
        side = side if rng.random() < 0.5 else side[:int(rng.integers(1, len(side)))]
        plan = [*side, ("key", "back"), *plan]
    for action, arg in plan:
        while rng.random() < 0.35:  # a stray touch somewhere in the app, or a scroll
            if rng.random() < 0.5:
                touch(list(screen)[int(rng.integers(len(screen)))])
            else:
                emit({"action": "swipe", "x": int(rng.integers(400, 2200)), "y": 1200,
                      "x2": int(rng.integers(400, 2200)), "y2": 400})
        if action in ("tap", "long"):
            touch(arg, "long_press" if action == "long" else "tap")
        elif action == "key":
            emit({"action": "key", "text": arg})
        elif action == "scroll":
            for _ in range(int(rng.integers(1, 4))):
                emit({"action": "scroll", "x": 1300, "y": 1300, "x2": 1300, "y2": 500}, 0.5)
        else:
            text = str(int(rng.integers(5, 900))) if arg == "#" else WORDS[int(rng.integers(len(WORDS)))]
            emit({"action": "type", "text": text}, 2.0)
    if rng.random() < 0.5:
        emit({"action": "key", "text": "home"})
    return {"intent": intent, "app": app, "screen_size": [W, H], "device": "tablet",
            "events": events}


def write_second_sim(folder: str | Path, num: int = 400, seed: int = 0, files: int = 2) -> Path:
    """``num`` sessions (intents in turn) in ``files`` ``.jsonl`` files under ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(INTENTS)
    sessions = [_session(names[i % len(names)], np.random.default_rng([seed, 7, i])) for i in range(num)]
    for f in range(files):
        part = sessions[f::files]
        (folder / f"part{f}.jsonl").write_text("".join(json.dumps(s) + "\n" for s in part))
    return folder
