import errno
import json
import re

import pytest
import torch
from safetensors.torch import save_file

from jepa_core.train import checkpoint
from jepa_core.train.checkpoint import (
    CheckpointError,
    NonFiniteCheckpointError,
    complete_checkpoints,
    latest_checkpoint,
    load_checkpoint,
    load_latest,
    save_checkpoint,
)


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


def _three_checkpoints(tmp_path, keep=3):
    for step in (1, 2, 3):
        save_checkpoint(tmp_path, step, {"a": torch.full((2,), float(step))}, _optim_state(), {}, keep=keep)


def test_save_checkpoint__refuses_nonfinite_weights_and_keeps_the_last_finite(tmp_path):
    save_checkpoint(tmp_path, 1, {"a": torch.ones(2)}, _optim_state(), {})
    with pytest.raises(NonFiniteCheckpointError, match=r"step 2 holds NaN/inf values \(a\)"):
        save_checkpoint(tmp_path, 2, {"a": torch.tensor([1.0, float("nan")])}, _optim_state(), {})
    bad_optim = _optim_state()
    bad_optim["state"][0]["exp_avg"][0] = float("inf")
    with pytest.raises(NonFiniteCheckpointError, match="optimizer 0.exp_avg"):
        save_checkpoint(tmp_path, 2, {"a": torch.ones(2)}, bad_optim, {})
    assert latest_checkpoint(tmp_path) == "step-00000001"
    assert not list(tmp_path.glob("step-00000002*"))


def test_save_checkpoint__a_lower_step_is_kept_and_pointed_at(tmp_path):
    for step in (10, 11):
        save_checkpoint(tmp_path, step, {"a": torch.full((2,), float(step))}, _optim_state(), {})
    save_checkpoint(tmp_path, 2, {"a": torch.full((2,), 2.0)}, _optim_state(), {})
    assert latest_checkpoint(tmp_path) == "step-00000002"
    assert float(load_checkpoint(tmp_path)[0]["a"][0]) == 2.0
    assert complete_checkpoints(tmp_path) == ["step-00000011", "step-00000010", "step-00000002"]


def test_save_checkpoint__never_deletes_what_latest_names(tmp_path):
    _three_checkpoints(tmp_path)
    (tmp_path / "latest.json").write_text(json.dumps({"step": 1, "tag": "step-00000001"}))
    save_checkpoint(tmp_path, 4, {"a": torch.zeros(2)}, _optim_state(), {}, keep=1)
    assert complete_checkpoints(tmp_path) == ["step-00000004"]
    (tmp_path / "latest.json").write_text(json.dumps({"step": 4, "tag": "step-00000004"}))


def test_save_checkpoint__disk_full_removes_the_partial_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, 1, {"a": torch.ones(2)}, _optim_state(), {})
    calls = []

    def full_disk(tensors, path):
        calls.append(path)
        if len(calls) == 2:  # step 2's optimizer file
            raise OSError(errno.ENOSPC, "No space left on device")
        save_file(tensors, path)

    monkeypatch.setattr(checkpoint, "save_file", full_disk)
    with pytest.raises(CheckpointError, match=r"step 2 .*optim.safetensors\): the disk is full.*step-00000001"):
        save_checkpoint(tmp_path, 2, {"a": torch.zeros(2)}, _optim_state(), {})
    assert latest_checkpoint(tmp_path) == "step-00000001"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "latest.json", "step-00000001.json", "step-00000001.optim.safetensors", "step-00000001.safetensors"]
    assert float(load_checkpoint(tmp_path)[0]["a"][0]) == 1.0


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CORRUPTIONS = {
    "truncated weights": (lambda d: _truncate(d / "step-00000003.safetensors"),
                          "step-00000003.safetensors is not a readable safetensors file"),
    "truncated optimizer": (lambda d: _truncate(d / "step-00000003.optim.safetensors"),
                            "step-00000003.optim.safetensors is not a readable safetensors file"),
    "garbage trainer json": (lambda d: (d / "step-00000003.json").write_text("{'step': oops"),
                             "step-00000003.json is not valid JSON"),
    "nan weights": (lambda d: save_file({"a": torch.tensor([float("nan"), 0.0])}, d / "step-00000003.safetensors"),
                    "step-00000003.safetensors holds NaN/inf values (a)"),
    "garbage latest.json": (lambda d: (d / "latest.json").write_bytes(b"\x00\xff garbage"),
                            "latest.json is not a valid checkpoint pointer"),
    "latest.json outside the run": (
        lambda d: (d / "latest.json").write_text(json.dumps({"tag": "../../other/checkpoints/step-00000009"})),
        "latest.json names '../../other/checkpoints/step-00000009', which is not a checkpoint of this run"),
    "latest.json names deleted files": (
        lambda d: [(d / f"step-00000003{s}").unlink() for s in (".json", ".safetensors", ".optim.safetensors")],
        "step-00000003.json is missing"),
    "latest.json missing": (lambda d: (d / "latest.json").unlink(), "latest.json is missing"),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_load_latest__falls_back_to_the_newest_intact_checkpoint(case, tmp_path):
    _three_checkpoints(tmp_path)
    corrupt, reason = CORRUPTIONS[case]
    corrupt(tmp_path)
    found = load_latest(tmp_path)
    pointer_only = "latest.json" in case and "deleted" not in case
    assert found.step == (3 if pointer_only else 2)
    assert float(found.model_state["a"][0]) == found.step
    assert any(reason in r and str(tmp_path) in r for r in found.skipped), found.skipped
    weights_only = load_latest(tmp_path, optimizer=False)  # embed/probe: the optimizer file is not needed
    assert weights_only.step == (3 if case in ("truncated optimizer", "garbage trainer json") else found.step)


@pytest.mark.parametrize("case", ["truncated weights", "truncated optimizer", "garbage trainer json"])
def test_load_checkpoint__a_damaged_file_is_named(case, tmp_path):
    _three_checkpoints(tmp_path)
    corrupt, reason = CORRUPTIONS[case]
    corrupt(tmp_path)
    with pytest.raises(CheckpointError, match=re.escape(reason)):
        load_checkpoint(tmp_path, "step-00000003")


def test_load_latest__none_intact_is_one_error_listing_why(tmp_path):
    save_checkpoint(tmp_path, 1, {"a": torch.ones(2)}, _optim_state(), {})
    _truncate(tmp_path / "step-00000001.safetensors")
    with pytest.raises(CheckpointError, match="no intact checkpoint in .*step-00000001.safetensors is not a readable"):
        load_latest(tmp_path)
    assert load_latest(tmp_path / "nothing") is None


def test_save_checkpoint__rewriting_a_tag_is_incomplete_until_done(tmp_path, monkeypatch):
    _three_checkpoints(tmp_path)

    def killed(tensors, path):
        raise KeyboardInterrupt  # dies mid-rewrite, as a kill would: no cleanup

    monkeypatch.setattr(checkpoint, "save_file", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, 3, {"a": torch.zeros(2)}, _optim_state(), {})
    found = load_latest(tmp_path)
    assert found.step == 2 and any("step-00000003.json is missing" in r for r in found.skipped)
