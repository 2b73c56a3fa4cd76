"""The trace reader: the documented format, and one clear error (file and line) per bad input."""

from __future__ import annotations

import json

import pytest

from jepa_core.modality import DataError
from modalities.ui.traces import read_sessions

GOOD = {"intent": "buy", "app": "shop", "events": [
    {"t": 0, "action": "tap", "x": 0.5, "y": 0.1, "element": {"role": "button", "text": "Buy", "id": "b"}},
    {"t": 1.5, "action": "type", "text": "shoes"},
    {"t": 1.5, "action": "scroll", "bbox": [0.2, 0.4, 0.6, 0.8], "x2": 0.4, "y2": 0.2},
    {"t": 3, "action": "navigate", "text": "back"}]}


def _jsonl(tmp_path, *sessions, name="s.jsonl"):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(s if isinstance(s, str) else json.dumps(s) for s in sessions) + "\n")
    return path


def _bad(tmp_path, session, line=2):
    """A file whose line ``line`` holds ``session`` (a good one before it); the error message."""
    path = _jsonl(tmp_path, GOOD, session) if line == 2 else _jsonl(tmp_path, session)
    with pytest.raises(DataError) as e:
        read_sessions(path)
    msg = str(e.value)
    assert str(path) in msg and f"line {line}" in msg, msg
    return msg


def _with_event(i, **changes):
    s = json.loads(json.dumps(GOOD))
    s["events"][i] = {**s["events"][i], **changes}
    return s


def test_read__jsonl_json_and_folder(tmp_path):
    _jsonl(tmp_path / "a", GOOD, GOOD)
    (tmp_path / "a" / "one.json").write_text(json.dumps({**GOOD, "screen_size": [100, 200], "events": [
        {"t": 0, "action": "tap", "x": 50, "y": 100}]}, indent=2))
    sessions = read_sessions(tmp_path / "a")
    assert len(sessions) == 3
    assert (sessions[0].events[0].x, sessions[0].events[0].y) == (0.5, 0.5)  # pixels / screen_size
    s = sessions[1]  # sorted: one.json, then s.jsonl
    assert s.fields == {"intent": "buy", "app": "shop"} and s.where.endswith("s.jsonl: line 1")
    ev = s.events[2]
    assert (ev.x, ev.y, ev.x2, ev.y2) == pytest.approx((0.4, 0.6, 0.4, 0.2))
    assert ev.box == pytest.approx((0.4, 0.4))
    assert s.events[0].role == "button" and s.events[1].text == "shoes"


def test_read__screenshots_relative_to_the_file(tmp_path):
    (tmp_path / "shots").mkdir()
    (tmp_path / "shots" / "0.png").write_bytes(b"png")
    s = {**GOOD, "screens": ["shots/0.png", None, None, None]}
    ev = read_sessions(_jsonl(tmp_path, s))[0].events
    assert ev[0].screen == str((tmp_path / "shots" / "0.png").resolve()) and ev[1].screen is None


def test_read__malformed_json_names_the_line(tmp_path):
    assert "malformed JSON" in _bad(tmp_path, '{"events": [')


def test_read__malformed_json_file_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n "events": [\n  {"t": 0,,}\n ]\n}')
    with pytest.raises(DataError, match=r"bad\.json: line 3: malformed JSON"):
        read_sessions(path)


def test_read__unknown_action(tmp_path):
    msg = _bad(tmp_path, _with_event(1, action="click"))
    assert "event 1" in msg and "unknown action 'click'" in msg and "long_press" in msg


def test_read__missing_coordinates(tmp_path):
    s = _with_event(0)
    del s["events"][0]["x"], s["events"][0]["y"]
    assert "event 0" in (msg := _bad(tmp_path, s)) and "needs coordinates" in msg
    assert "needs both 'x' and 'y'" in _bad(tmp_path, _with_event(1, x=0.3))


def test_read__pixels_without_screen_size(tmp_path):
    assert "screen_size" in _bad(tmp_path, _with_event(0, x=540, y=200))


def test_read__time_going_backwards(tmp_path):
    msg = _bad(tmp_path, _with_event(3, t=1.0))
    assert "event 3" in msg and "backwards" in msg


def test_read__missing_screenshot(tmp_path):
    msg = _bad(tmp_path, {**GOOD, "screens": [None, "shots/none.png", None, None]})
    assert "screens[1]" in msg and "does not exist" in msg


def test_read__screens_of_the_wrong_length(tmp_path):
    assert "one path (or null) per event" in _bad(tmp_path, {**GOOD, "screens": [None]})


def test_read__session_without_events(tmp_path):
    assert "no events" in _bad(tmp_path, {"intent": "x", "events": []}, line=1)
    assert "no events" in _bad(tmp_path, {"intent": "x"})


def test_read__not_an_object_and_bad_time(tmp_path):
    assert "JSON object" in _bad(tmp_path, [1, 2])
    assert "finite number" in _bad(tmp_path, _with_event(0, t="soon"))


def test_read__empty_folder_and_wrong_suffix(tmp_path):
    with pytest.raises(DataError, match="no .jsonl or .json"):
        read_sessions(tmp_path)
    (tmp_path / "x.csv").write_text("a\n")
    with pytest.raises(DataError, match="x.csv: not a trace file"):
        read_sessions(tmp_path / "x.csv")


def _aitw_step(episode, step, kind, **fields):
    return {"episode_id": episode, "step_id": step, "goal_info": "turn off wifi",
            "device_type": "pixel", "results/action_type": kind, **fields}


def test_read__aitw_steps_become_one_session_per_episode(tmp_path):
    box = {"image/ui_annotations_positions": [0.1, 0.1, 0.2, 0.8, 0.0, 0.0, 1.0, 1.0],
           "image/ui_annotations_text": ["Wi-Fi", "screen"], "image/ui_annotations_ui_types": ["TEXT", "ICON"]}
    steps = [_aitw_step("e1", 1, 3, **{"results/type_action": "wifi"}),
             _aitw_step("e1", 0, 4, **{"results/yx_touch": [0.2, 0.5], "results/yx_lift": [0.21, 0.5]}, **box),
             _aitw_step("e2", 0, 4, **{"results/yx_touch": [0.8, 0.5], "results/yx_lift": [0.2, 0.5]}),
             _aitw_step("e1", 2, 5), _aitw_step("e1", 3, 10)]
    sessions = read_sessions(_jsonl(tmp_path, *steps))
    assert [len(s.events) for s in sessions] == [3, 1]
    tap, typed, back = sessions[0].events
    assert (tap.action, tap.x, tap.y, tap.role, tap.element_text) == ("tap", 0.5, 0.2, "TEXT", "Wi-Fi")
    assert (typed.action, typed.text, back.action, back.text) == ("type", "wifi", "navigate", "back")
    assert sessions[0].fields["intent"] == "turn off wifi" and sessions[0].fields["status"] == "complete"
    assert sessions[1].events[0].action == "swipe" and sessions[1].events[0].y2 == 0.2


def test_read__aitw_bad_step_names_the_line(tmp_path):
    path = _jsonl(tmp_path, _aitw_step("e", 0, 4, **{"results/yx_touch": [0.2, 0.5], "results/yx_lift": [0.2, 0.5]}),
                  _aitw_step("e", 1, 4, **{"results/yx_touch": [0.2]}))
    with pytest.raises(DataError, match=r"s\.jsonl: line 2: 'results/yx_touch' must be \[y, x\]"):
        read_sessions(path)
    path = _jsonl(tmp_path, _aitw_step("e", 0, 99), name="t.jsonl")
    with pytest.raises(DataError, match=r"t\.jsonl: line 1: unknown AitW results/action_type 99"):
        read_sessions(path)
