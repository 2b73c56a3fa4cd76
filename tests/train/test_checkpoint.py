import json

import torch

from jepa_core.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint


def _optim_state():
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.AdamW([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    return opt.state_dict()


def test_save_checkpoint__round_trip(tmp_path):
    weights = {"a": torch.randn(2, 3), "b": torch.arange(4)}
    save_checkpoint(tmp_path, 7, weights, _optim_state(), {"loss": 0.5})
    w, o, t = load_checkpoint(tmp_path)
    assert torch.equal(w["a"], weights["a"]) and torch.equal(w["b"], weights["b"])
    assert t["step"] == 7 and t["loss"] == 0.5
    assert torch.equal(o["state"][0]["exp_avg"], _optim_state()["state"][0]["exp_avg"])


def test_save_checkpoint__keeps_last_two_and_pointer(tmp_path):
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, {"a": torch.full((2,), float(step))}, _optim_state(), {})
    assert latest_checkpoint(tmp_path) == "step-00000003"
    assert sorted(p.name for p in tmp_path.glob("*.json") if p.name != "latest.json") == [
        "step-00000002.json", "step-00000003.json"]
    assert json.loads((tmp_path / "latest.json").read_text())["step"] == 3


def test_save_checkpoint__no_temp_files_left(tmp_path):
    save_checkpoint(tmp_path, 1, {"a": torch.zeros(1)}, _optim_state(), {})
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
