"""The ui maskers: spans and future events over valid events only, their sizes, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_core.masking import create_masker
from jepa_core.tokens import TokenLayout


def _valid(lengths, n=None):
    n = n or max(lengths)
    return torch.arange(n)[None, :] < torch.tensor(lengths)[:, None]


def _rows(m, i):
    ctx = m.context_idx[i][m.context_valid[i]].tolist()
    tgt = [m.target_idx[i, j][m.target_valid[i, j]].tolist() for j in range(m.num_targets)]
    return ctx, tgt


def test_span__contiguous_disjoint_inside_valid_and_sized():
    lengths = list(range(4, 44))
    masker = create_masker({"name": "ui_span", "num_spans": 2, "span_ratio": 0.4})
    m = masker(len(lengths), TokenLayout((43,)), seed=3, step=5, token_valid=_valid(lengths))
    shares = []
    for i, n in enumerate(lengths):
        ctx, tgt = _rows(m, i)
        flat = [t for block in tgt for t in block]
        assert sorted(ctx + flat) == list(range(n))  # every valid event once, padding never
        for block in tgt:
            assert block and block == list(range(block[0], block[0] + len(block)))  # contiguous
        shares.append(len(flat) / n)
    assert abs(np.mean(shares[10:]) - 0.4) < 0.06


def test_future__hides_the_last_events_in_the_ratio():
    lengths = [2, 5, 10, 30, 40] * 8
    masker = create_masker({"name": "ui_future", "ratio": [0.2, 0.4]})
    m = masker(len(lengths), TokenLayout((40,)), seed=0, step=1, token_valid=_valid(lengths),
               sample_ids=torch.arange(100, 100 + len(lengths)))
    for i, n in enumerate(lengths):
        ctx, (tgt,) = _rows(m, i)
        assert ctx == list(range(n - len(tgt))) and tgt == list(range(n - len(tgt), n))
        assert 1 <= len(tgt) < n
        if n >= 30:
            assert 0.15 <= len(tgt) / n <= 0.45


@pytest.mark.parametrize("spec", [{"name": "ui_span"}, {"name": "ui_future"}])
def test_masks__keyed_by_seed_step_and_sample_id(spec):
    masker = create_masker(spec)
    valid = _valid([20, 20, 20])
    a = masker(3, TokenLayout((20,)), seed=1, step=2, token_valid=valid, sample_ids=torch.tensor([7, 8, 9]))
    b = masker(2, TokenLayout((20,)), seed=1, step=2, token_valid=valid[1:], sample_ids=torch.tensor([8, 9]))
    assert _rows(a, 1) == _rows(b, 0) and _rows(a, 2) == _rows(b, 1)
    c = masker(3, TokenLayout((20,)), seed=1, step=3, token_valid=valid, sample_ids=torch.tensor([7, 8, 9]))
    assert any(_rows(a, i) != _rows(c, i) for i in range(3))


def test_maskers__bad_settings_and_grids():
    with pytest.raises(ValueError, match="span_ratio"):
        create_masker({"name": "ui_span", "span_ratio": 1.5})
    with pytest.raises(ValueError, match="ratio"):
        create_masker({"name": "ui_future", "ratio": [0.5, 0.2]})
    with pytest.raises(ValueError, match="1-D event sequences"):
        create_masker("ui_future").check(TokenLayout((4, 4)))


def test_masks__single_event_sessions_have_no_target():
    for spec in ({"name": "ui_span"}, {"name": "ui_future"}):
        m = create_masker(spec)(2, TokenLayout((1,)), seed=0, step=0, token_valid=_valid([1, 1]))
        assert not m.target_valid.any() and m.context_valid.sum() <= 2


def test_span__tail_puts_the_last_span_at_the_session_end():
    lengths = list(range(4, 44))
    masker = create_masker({"name": "ui_span", "num_spans": 2, "span_ratio": 0.4, "tail": True})
    m = masker(len(lengths), TokenLayout((43,)), seed=3, step=5, token_valid=_valid(lengths))
    for i, n in enumerate(lengths):
        ctx, (first, last) = _rows(m, i)
        assert sorted(ctx + first + last) == list(range(n))
        assert last and last == list(range(n - len(last), n))  # ends at the last valid event
        assert first and max(first) < n // 2  # the other span stays in the first half
