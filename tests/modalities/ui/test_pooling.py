"""``ui_segments`` pooling: the mean of consecutive parts of each session, in order."""

from __future__ import annotations

import pytest
import torch

from jepa_core.config import ConfigError
from jepa_core.models.pooling import MeanPooling, create_pooling


def test_segments__keep_the_order_a_mean_forgets():
    pool = create_pooling({"name": "ui_segments", "segments": 2})
    x = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]])
    both = torch.cat([x, x.flip(1)])
    valid = torch.ones(2, 4, dtype=torch.bool)
    no_regs = torch.zeros(2, 0, 2)
    mean = MeanPooling()(both, no_regs, valid)
    assert torch.equal(mean[0], mean[1])
    assert pool(both, no_regs, valid).tolist() == [[1, 0, 0, 1], [0, 1, 1, 0]]


def test_segments__padding_and_short_sessions():
    pool = create_pooling({"name": "ui_segments", "segments": 3})
    x = torch.arange(1.0, 6.0).view(1, 5, 1).repeat(2, 1, 1)
    valid = torch.tensor([[True] * 5, [True, True, False, False, False]])
    out = pool(x, torch.zeros(2, 0, 1), valid)
    assert out.tolist() == [[1.5, 3.0, 4.5], [1.0, 0.0, 2.0]]  # 5 events: 2+1+2; 2 events: a gap


def test_segments__must_be_positive():
    with pytest.raises((ConfigError, ValueError), match="segments"):
        create_pooling({"name": "ui_segments", "segments": 0})


def test_segments__last_is_the_mean_next_to_the_last_part():
    pool = create_pooling({"name": "ui_segments", "segments": 2, "last": True})
    x = torch.tensor([[[1.0], [3.0], [5.0], [7.0]], [[1.0], [3.0], [5.0], [7.0]]])
    valid = torch.tensor([[True] * 4, [True, True, True, False]])
    assert pool(x, torch.zeros(2, 0, 1), valid).tolist() == [[4.0, 6.0], [3.0, 4.0]]


def test_segments__last_events_is_the_mean_next_to_the_last_valid_events():
    x = torch.tensor([[[1.0], [3.0], [5.0], [7.0]], [[1.0], [3.0], [5.0], [7.0]]])
    valid = torch.tensor([[True] * 4, [True, True, True, False]])
    one = create_pooling({"name": "ui_segments", "last": True, "last_events": 1})
    assert one(x, torch.zeros(2, 0, 1), valid).tolist() == [[4.0, 7.0], [3.0, 5.0]]  # padding never
    two = create_pooling({"name": "ui_segments", "last": True, "last_events": 2})
    assert two(x, torch.zeros(2, 0, 1), valid).tolist() == [[4.0, 6.0], [3.0, 4.0]]
    with pytest.raises((ConfigError, ValueError), match="last_events"):
        create_pooling({"name": "ui_segments", "last_events": -1})


def test_raw_baseline__adds_the_last_events_like_the_pooling():
    from modalities.ui.dataset import ACTION_ID, raw_features
    from modalities.ui.traces import ACTIONS, Event, Session

    events = [Event(0.0, "tap", 0.1, 0.2, role="button"), Event(1.0, "type", role="text_field"),
              Event(2.0, "tap", 0.5, 0.6, role="button")]
    state = {"roles": ["button", "text_field"]}
    plain = raw_features([Session(events)], state)
    one = raw_features([Session(events)], state, last_events=1)
    two = raw_features([Session(events)], state, last_events=2)
    width = len(ACTIONS) + 3 + 2
    assert one.shape[1] == two.shape[1] == plain.shape[1] + width
    assert (one[0, :plain.shape[1]] == plain[0]).all()
    end_one, end_two = one[0, plain.shape[1]:], two[0, plain.shape[1]:]
    assert end_one[ACTION_ID["tap"]] == 1.0 and end_one[-2:].tolist() == [0.5, 0.6]
    assert end_two[ACTION_ID["tap"]] == end_two[ACTION_ID["type"]] == 0.5
    assert end_two[-2:].tolist() == [0.5, 0.6]  # the typed event has no point
