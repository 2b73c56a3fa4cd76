"""The demo's session simulator: four phone apps, their screens and widgets, ten intents.

Each intent is a family of event sequences, not one script: a simulated user reaches
the goal by one of several routes (search or browse, from the home screen or inside the
app), at their own speed, with noise: touch points jitter inside each widget, some users
take a detour (open a wrong screen and go back), mistype and correct (``type`` with a
typo, ``key`` backspaces, ``type`` again), scroll more or less, or wander before acting;
half of them first do, or begin and abandon, another task of the same app (the session's
intent is the task it ends with, so which flow comes last matters, not only which
widgets were touched).
Texts (queries, contacts, messages) are drawn from small word lists. Every session has
the fields ``intent`` (a short phrase such as ``"buy a product"``) and ``app``.

The draw is deterministic: ``simulate(n, seed)`` gives the same sessions everywhere.
"""

from __future__ import annotations

import numpy as np

# widget: (role, text, [x0, y0, x1, y1] as fractions of a portrait phone screen)
TOP_BAR = {"back": ("button", "Back", [0.0, 0.03, 0.12, 0.09]),
           "menu": ("button", "Menu", [0.88, 0.03, 1.0, 0.09]),
           "search": ("search_box", "Search", [0.14, 0.03, 0.86, 0.09])}
HOME = {f"app_{a}": ("icon", label, [0.06 + 0.23 * i, 0.80, 0.24 + 0.23 * i, 0.90])
        for i, (a, label) in enumerate([("shop", "Shop"), ("chat", "Chat"),
                                        ("settings", "Settings"), ("maps", "Maps")])}


def _rows(prefix: str, role: str, texts: list[str], top: float = 0.15, h: float = 0.09) -> dict:
    return {f"{prefix}_{i}": (role, t, [0.04, top + i * h, 0.96, top + (i + 1) * h - 0.01])
            for i, t in enumerate(texts)}


SCREENS = {
    "shop": {**TOP_BAR,
             **_rows("category", "tab", ["Deals", "Electronics", "Clothing", "Home"], 0.11, 0.05),
             **_rows("result", "list_item", ["Item one", "Item two", "Item three", "Item four"], 0.33),
             "add_to_cart": ("button", "Add to cart", [0.05, 0.86, 0.48, 0.94]),
             "buy_now": ("button", "Buy now", [0.52, 0.86, 0.95, 0.94]),
             "cart": ("button", "Cart", [0.72, 0.95, 0.86, 1.0]),
             "checkout": ("button", "Checkout", [0.1, 0.86, 0.9, 0.94]),
             "pay": ("button", "Pay", [0.1, 0.76, 0.9, 0.84]),
             "orders": ("menu_item", "Your orders", [0.55, 0.1, 1.0, 0.16]),
             "order_0": ("list_item", "Order #1042", [0.04, 0.2, 0.96, 0.28]),
             "wishlist": ("menu_item", "Wish list", [0.55, 0.17, 1.0, 0.23]),
             "heart": ("toggle", "Save", [0.84, 0.6, 0.96, 0.66])},
    "chat": {**TOP_BAR,
             **_rows("conv", "list_item", ["Alice", "Bob", "Carol", "Dan", "Eve"]),
             "new_chat": ("button", "New chat", [0.78, 0.88, 0.96, 0.96]),
             "input": ("text_field", "Message", [0.04, 0.9, 0.8, 0.97]),
             "send": ("button", "Send", [0.82, 0.9, 0.96, 0.97]),
             "call": ("button", "Call", [0.7, 0.03, 0.86, 0.09]),
             "attach": ("button", "Attach", [0.0, 0.82, 0.12, 0.88]),
             "photo": ("menu_item", "Photo", [0.02, 0.7, 0.4, 0.76])},
    "settings": {**TOP_BAR,
                 **_rows("section", "list_item", ["Network", "Display", "Sound", "Privacy", "About"]),
                 "wifi": ("list_item", "Wi-Fi", [0.04, 0.15, 0.96, 0.23]),
                 "network_0": ("list_item", "HomeNet", [0.04, 0.3, 0.96, 0.37]),
                 "password": ("text_field", "Password", [0.08, 0.45, 0.92, 0.52]),
                 "connect": ("button", "Connect", [0.55, 0.56, 0.92, 0.62]),
                 "dark_mode": ("toggle", "Dark mode", [0.78, 0.24, 0.96, 0.3]),
                 "brightness": ("slider", "Brightness", [0.08, 0.34, 0.92, 0.38]),
                 "volume": ("slider", "Ring volume", [0.08, 0.2, 0.92, 0.24])},
    "maps": {**TOP_BAR,
             **_rows("chip", "chip", ["Restaurants", "Gas", "Coffee"], 0.11, 0.05),
             **_rows("place", "list_item", ["Central park", "Main station", "City museum"], 0.5),
             "directions": ("button", "Directions", [0.05, 0.86, 0.48, 0.94]),
             "start": ("button", "Start", [0.52, 0.86, 0.95, 0.94]),
             "map": ("map", "", [0.0, 0.1, 1.0, 0.85]),
             "save_place": ("button", "Save", [0.52, 0.78, 0.95, 0.84])},
}
QUERIES = {"shop": ["headphones", "running shoes", "coffee maker", "phone case", "desk lamp",
                    "backpack", "water bottle", "keyboard"],
           "maps": ["central park", "airport", "train station", "city museum", "pizza",
                    "pharmacy", "hotel"],
           "chat": ["alice", "bob", "carol", "dan", "eve"]}
MESSAGES = ["see you soon", "running late", "call me", "thanks!", "on my way", "sounds good",
            "what time?", "happy birthday", "ok"]
WIFI_PASSWORDS = ["hunter22", "letmein7", "blue-sky", "pa55word"]


class Recorder:
    """Builds one session's events: taps on named widgets, typing with typos, scrolls."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.events: list[dict] = []
        self.t = 0.0
        self.speed = float(rng.lognormal(0.0, 0.3))  # this user's pace
        self.screen = "home"

    def _tick(self, mean: float = 1.0) -> float:
        self.t += float(self.rng.gamma(2.0, mean / 2.0)) * self.speed + 0.05
        return round(self.t, 3)

    def tap(self, widget: str, action: str = "tap") -> None:
        screens = HOME if widget in HOME else SCREENS[self.screen]
        role, text, (x0, y0, x1, y1) = screens[widget]
        x = x0 + (x1 - x0) * float(self.rng.uniform(0.2, 0.8))
        y = y0 + (y1 - y0) * float(self.rng.uniform(0.2, 0.8))
        self.events.append({"t": self._tick(), "action": action, "x": round(x, 4), "y": round(y, 4),
                            "element": {"role": role, "text": text, "id": widget}})

    def type(self, text: str, typo_p: float = 0.25) -> None:
        if len(text) > 3 and self.rng.random() < typo_p:  # a typo, deleted and retyped
            i = int(self.rng.integers(1, len(text) - 1))
            wrong = text[:i] + "qwertyuiopasdfghjklzxcvbnm"[int(self.rng.integers(26))]
            self.events.append({"t": self._tick(len(wrong) * 0.2), "action": "type", "text": wrong})
            self.events.append({"t": self._tick(0.4), "action": "key", "text": "backspace"})
            text = text[i:]
        self.events.append({"t": self._tick(len(text) * 0.2), "action": "type", "text": text})

    def key(self, name: str) -> None:
        self.events.append({"t": self._tick(0.5), "action": "key", "text": name})

    def scroll(self, up: bool = False, times: int = 1) -> None:
        for _ in range(times):
            x = float(self.rng.uniform(0.3, 0.7))
            y0, y1 = (0.3, 0.75) if up else (0.75, 0.3)
            self.events.append({"t": self._tick(0.7), "action": "scroll",
                                "x": round(x, 4), "y": round(y0 + self.rng.normal(0, 0.03), 4),
                                "x2": round(x, 4), "y2": round(y1 + self.rng.normal(0, 0.03), 4)})

    def navigate(self, where: str) -> None:
        self.events.append({"t": self._tick(0.6), "action": "navigate", "text": where})

    def open(self, app: str) -> None:
        """Reach ``app``: from the home screen (tap its icon) or by a deep link."""
        if self.rng.random() < 0.7:
            if self.rng.random() < 0.5:
                self.navigate("home")
            self.screen = "home"
            self.tap(f"app_{app}")
        else:
            self.navigate(f"app://{app}")
        self.screen = app

    def maybe_detour(self, p: float = 0.3) -> None:
        """Sometimes open a wrong screen or press a wrong widget (any widget of the app,
        also one that another intent needs) and come back."""
        if self.rng.random() < p:
            options = [w for w in SCREENS[self.screen] if w not in ("back", "search")]
            self.tap(options[int(self.rng.integers(len(options)))])
            if self.rng.random() < 0.4:
                self.scroll(times=int(self.rng.integers(1, 3)))
            if self.rng.random() < 0.5:
                self.tap("back")
            else:
                self.navigate("back")

    def wander(self, mean: float) -> None:
        """A Poisson(``mean``) number of detours: browsing that is no part of the goal."""
        for _ in range(int(self.rng.poisson(mean))):
            self.maybe_detour(1.0)

    def pick(self, items: list):
        return items[int(self.rng.integers(len(items)))]


def _search(r: Recorder, app: str) -> None:
    r.tap("search")
    r.type(r.pick(QUERIES[app]))
    if r.rng.random() < 0.8:
        r.key("enter")


def _shop_search(r):
    _search(r, "shop")
    r.scroll(times=int(r.rng.integers(0, 4)))
    if r.rng.random() < 0.5:
        r.tap(f"result_{int(r.rng.integers(4))}")
        r.scroll(times=int(r.rng.integers(0, 2)))


def _shop_buy(r):
    if r.rng.random() < 0.6:
        _search(r, "shop")
    else:
        r.tap(f"category_{int(r.rng.integers(4))}")
    r.scroll(times=int(r.rng.integers(0, 3)))
    r.tap(f"result_{int(r.rng.integers(4))}")
    r.maybe_detour(0.2)
    if r.rng.random() < 0.5:
        r.tap("buy_now")
    else:
        r.tap("add_to_cart")
        r.tap("cart")
        r.tap("checkout")
    r.tap("pay")


def _shop_track(r):
    r.tap("menu")
    r.maybe_detour(0.2)
    r.tap("orders")
    r.tap("order_0")
    r.scroll(times=int(r.rng.integers(0, 3)))


def _shop_wishlist(r):
    if r.rng.random() < 0.5:
        _search(r, "shop")
    else:
        r.tap(f"category_{int(r.rng.integers(4))}")
    r.tap(f"result_{int(r.rng.integers(4))}")
    r.tap("heart", "long_press" if r.rng.random() < 0.3 else "tap")
    if r.rng.random() < 0.5:
        r.tap("menu")
        r.tap("wishlist")


def _chat_send(r):
    if r.rng.random() < 0.5:
        r.tap(f"conv_{int(r.rng.integers(5))}")
    else:
        r.tap("new_chat")
        r.type(r.pick(QUERIES["chat"]), 0.1)
        r.tap("conv_0")
    r.tap("input")
    r.type(r.pick(MESSAGES))
    if r.rng.random() < 0.8:
        r.tap("send")
    else:
        r.key("enter")


def _chat_read(r):
    for _ in range(int(r.rng.integers(1, 4))):
        r.tap(f"conv_{int(r.rng.integers(5))}")
        r.scroll(up=True, times=int(r.rng.integers(1, 4)))
        if r.rng.random() < 0.5:
            r.navigate("back")
        else:
            r.tap("back")


def _chat_photo(r):
    r.tap(f"conv_{int(r.rng.integers(5))}")
    r.tap("attach")
    r.tap("photo")
    r.events.append({"t": r._tick(), "action": "swipe", "x": 0.8, "y": 0.5, "x2": 0.2, "y2": 0.5})
    r.tap("send")


def _settings_wifi(r):
    r.tap("section_0")
    r.tap("wifi")
    r.scroll(times=int(r.rng.integers(0, 2)))
    r.tap("network_0")
    r.tap("password")
    r.type(r.pick(WIFI_PASSWORDS), 0.4)
    r.tap("connect")


def _settings_display(r):
    if r.rng.random() < 0.4:
        r.tap("search")  # look the option up first
        r.type(r.pick(["dark", "theme", "brightness", "display"]))
    r.tap("section_1")
    if r.rng.random() < 0.6:
        r.tap("dark_mode")
    else:
        role, text, (x0, y0, x1, y1) = SCREENS["settings"]["brightness"]
        x = float(r.rng.uniform(x0, x1))
        r.events.append({"t": r._tick(), "action": "swipe", "x": round(x, 4), "y": 0.36,
                         "x2": round(float(r.rng.uniform(x0, x1)), 4), "y2": 0.36,
                         "element": {"role": role, "text": text, "id": "brightness"}})


def _maps_directions(r):
    if r.rng.random() < 0.7:
        _search(r, "maps")
    else:
        r.tap("map", "long_press")
    if r.rng.random() < 0.6:
        r.tap(f"place_{int(r.rng.integers(3))}")
    r.tap("directions")
    if r.rng.random() < 0.7:
        r.tap("start")


def _maps_nearby(r):
    r.tap(f"chip_{int(r.rng.integers(3))}")
    r.scroll(times=int(r.rng.integers(1, 4)))
    r.tap(f"place_{int(r.rng.integers(3))}")
    if r.rng.random() < 0.5:
        r.tap("save_place")


INTENTS = {  # intent phrase: (app, family)
    "search for a product": ("shop", _shop_search),
    "buy a product": ("shop", _shop_buy),
    "track an order": ("shop", _shop_track),
    "save to wish list": ("shop", _shop_wishlist),
    "send a message": ("chat", _chat_send),
    "read messages": ("chat", _chat_read),
    "share a photo": ("chat", _chat_photo),
    "connect to wi-fi": ("settings", _settings_wifi),
    "change display settings": ("settings", _settings_display),
    "get directions": ("maps", _maps_directions),
    "find a place nearby": ("maps", _maps_nearby),
}


def simulate_session(intent: str, rng: np.random.Generator, noise: float = 1.5,
                     side_task: float = 0.5, info: dict | None = None) -> dict:
    """One session of ``intent`` (a key of :data:`INTENTS`) as a trace object.

    Args:
        noise: the mean number of detours before the goal (half as many after it).
        side_task: the chance that the user first does, or begins and abandons, another
            task of the same app; the session's intent is the task it ends with.
        info: if given, ``info["side"]`` is set to ``"none"``, ``"abandoned"`` or
            ``"done"`` (the side task's fate; for studies, not part of the trace).
    """
    app, family = INTENTS[intent]
    r = Recorder(rng)
    r.open(app)
    if rng.random() < 0.3:  # look around first
        r.scroll(times=int(rng.integers(1, 3)))
    r.wander(noise)
    others = [f for name, (a, f) in INTENTS.items() if a == app and name != intent]
    side = "none"
    if others and rng.random() < side_task:
        start = len(r.events)
        r.pick(others)(r)
        side = "done"
        if rng.random() < 0.5:  # abandoned part-way
            cut = start + int(rng.integers(1, max(len(r.events) - start, 2)))
            del r.events[cut:]
            side = "abandoned"
        r.navigate("back")
    if info is not None:
        info["side"] = side
    family(r)
    r.wander(noise / 2)
    if rng.random() < 0.3:
        r.navigate(r.pick(["back", "home"]))
    return {"app": app, "intent": intent, "events": r.events}


def simulate(num: int, seed: int = 0, noise: float = 1.5, side_task: float = 0.5) -> list[dict]:
    """``num`` sessions, the intents in turn (balanced), each drawn from its own stream.

    Examples:
        >>> a, b = simulate(3, seed=1), simulate(3, seed=1)
        >>> a == b, [s["app"] for s in a]
        (True, ['shop', 'shop', 'shop'])
    """
    names = list(INTENTS)
    return [simulate_session(names[i % len(names)], np.random.default_rng([seed, i]), noise, side_task)
            for i in range(num)]
