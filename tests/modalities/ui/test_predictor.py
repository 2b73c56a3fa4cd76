"""The ``ui_time`` predictor: target events' times reach it, their screen points do not."""

from __future__ import annotations

import pytest
import torch

from jepa_core.config import ModelConfig
from jepa_core.models.predictor import create_predictor


def _build(name):
    torch.manual_seed(0)
    return create_predictor({"name": name, "dim": 16, "depth": 1, "heads": 2}, layout=None,
                            in_dim=8, out_dim=8, model=ModelConfig(dim=8, depth=1, heads=2)).eval()


def _inputs():
    g = torch.Generator().manual_seed(1)
    coords = torch.rand(2, 6, 3, generator=g) * 5
    z_ctx = torch.randn(2, 3, 8, generator=g)
    ctx_idx = torch.tensor([[0, 1, 2], [0, 2, 4]])
    ctx_valid = torch.ones(2, 3, dtype=torch.bool)
    tgt_idx = torch.tensor([[[3, 4, 5]], [[1, 3, 0]]])              # sample 1: one padding slot
    tgt_valid = torch.tensor([[[True, True, True]], [[True, True, False]]])
    return z_ctx, ctx_idx, ctx_valid, tgt_idx, tgt_valid, coords


def test_ui_time__ignores_the_targets_screen_points_not_their_times():
    pred = _build("ui_time")
    z, ci, cv, ti, tv, coords = _inputs()
    out = pred(z, ci, cv, ti, tv, coords=coords)
    moved = coords.clone()
    moved[0, 3:, 1:] += 2.0                                         # target points of sample 0
    moved[1, [1, 3], 1:] -= 1.0                                     # and of sample 1
    assert torch.allclose(pred(z, ci, cv, ti, tv, coords=moved), out)
    later = coords.clone()
    later[0, 4, 0] += 1.0                                           # a target's time
    assert not torch.allclose(pred(z, ci, cv, ti, tv, coords=later)[0], out[0])
    ctx_moved = coords.clone()
    ctx_moved[1, 0, 1:] += 1.0                                      # a context point (also index of padding)
    assert not torch.allclose(pred(z, ci, cv, ti, tv, coords=ctx_moved)[1], out[1])


def test_ui_time__is_the_masked_predictor_on_targets_at_the_origin():
    z, ci, cv, ti, tv, coords = _inputs()
    at_origin = coords.clone()
    at_origin[0, 3:, 1:] = 0.0
    at_origin[1, [1, 3], 1:] = 0.0
    masked, ui_time = _build("masked"), _build("ui_time")
    ui_time.load_state_dict(masked.state_dict())
    assert torch.allclose(ui_time(z, ci, cv, ti, tv, coords=coords),
                          masked(z, ci, cv, ti, tv, coords=at_origin))


def test_ui_time__needs_coords():
    z, ci, cv, ti, tv, _ = _inputs()
    with pytest.raises(ValueError, match="coords"):
        _build("ui_time")(z, ci, cv, ti, tv)


def test_ui_time__pretrains_with_tail_spans_from_the_cli(tmp_path, capsys):
    from .second_sim import write_second_sim
    from .test_cli import pretrain_and_probe

    sessions = write_second_sim(tmp_path / "sessions", num=40)
    result = pretrain_and_probe(sessions, tmp_path / "run", capsys, "predictor.name=ui_time",
                                "mask.tail=true", steps=3)
    assert 0.0 <= result["pretrained"] <= 1.0
