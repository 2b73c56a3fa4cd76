"""Simple screenshots for the simulated sessions: the screen each event happens on, drawn
with Pillow (one colour per screen, a box per widget coloured by its role, the keyboard
while typing, a dot where the finger lands)."""

from __future__ import annotations

from pathlib import Path

from .simulator import HOME, SCREENS

#: Background colour of each screen (RGB).
BACKGROUND = {"home": (40, 44, 52), "shop": (250, 245, 235), "chat": (230, 240, 255),
              "settings": (238, 238, 238), "maps": (215, 235, 205)}
#: Fill colour of each widget role; other roles are grey.
ROLE_COLOUR = {"button": (60, 120, 220), "icon": (240, 180, 40), "list_item": (200, 200, 210),
               "tab": (150, 90, 200), "search_box": (255, 255, 255), "text_field": (255, 255, 255),
               "toggle": (40, 180, 90), "slider": (120, 120, 120), "menu_item": (220, 120, 60),
               "chip": (90, 190, 190), "map": (180, 215, 170)}


def event_screens(session: dict) -> list[str]:
    """The screen (``home`` or an app of :data:`SCREENS`) each event of ``session`` happens on."""
    current, out = "home", []
    for ev in session["events"]:
        out.append(current)
        widget = (ev.get("element") or {}).get("id", "")
        text = str(ev.get("text", ""))
        if widget.startswith("app_"):
            current = widget[4:]
        elif ev["action"] == "navigate" and text.startswith("app://"):
            current = text[6:]
        elif ev["action"] == "navigate" and text == "home":
            current = "home"
    return out


def draw_screen(screen: str, event: dict, keyboard: bool, size: tuple[int, int] = (36, 64)):
    """One screenshot (a PIL image of ``size`` pixels): ``screen``'s widgets, the keyboard
    when ``keyboard``, and the point ``event`` touches."""
    from PIL import Image, ImageDraw

    w, h = size
    img = Image.new("RGB", size, BACKGROUND[screen])
    draw = ImageDraw.Draw(img)
    widgets = HOME if screen == "home" else SCREENS[screen]
    for role, _, (x0, y0, x1, y1) in widgets.values():
        draw.rectangle([x0 * w, y0 * h, max(x1 * w - 1, x0 * w), max(y1 * h - 1, y0 * h)],
                       fill=ROLE_COLOUR.get(role, (160, 160, 160)), outline=(30, 30, 30))
    if keyboard:
        draw.rectangle([0, 0.62 * h, w, h], fill=(70, 70, 80))
    if "x" in event:
        x, y = event["x"] * w, event["y"] * h
        draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(230, 30, 30))
    return img


def render_screens(session: dict, folder: Path, stem: str) -> list[str | None]:
    """Write a PNG per event of ``session`` into ``folder`` (``<stem>_<i>.png``) and return
    the ``screens`` list of the session: paths relative to ``folder``'s parent, ``None``
    for ``key`` events (a key press has no screenshot, as in recordings that capture the
    screen on touches only)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: list[str | None] = []
    keyboard = False
    for i, (ev, screen) in enumerate(zip(session["events"], event_screens(session))):
        role = (ev.get("element") or {}).get("role", "")
        keyboard = ev["action"] == "type" or (keyboard and ev["action"] == "key") \
            or role in ("search_box", "text_field")
        if ev["action"] == "key":
            out.append(None)
            continue
        name = f"{stem}_{i}.png"
        draw_screen(screen, ev, keyboard).save(folder / name)
        out.append(f"{folder.name}/{name}")
    return out
