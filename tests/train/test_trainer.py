import json

import pytest
import torch
from safetensors.torch import load_file

from jepa_core import cli
from jepa_core.registry import register_modality
from jepa_core.train.checkpoint import latest_checkpoint
from tests.toy_modality import ToyModality, write_toy_data

register_modality("toy", ToyModality)


def _pretrain(tmp_path, out, *extra):
    data = tmp_path / "x.npy"
    if not data.exists():
        write_toy_data(data)
    return cli.main(["pretrain", "toy", "--data", str(data), "--out", str(tmp_path / out), *extra])


def _weights(run):
    ckpt = run / "checkpoints"
    return load_file(str(ckpt / f"{latest_checkpoint(ckpt)}.safetensors"))


def _metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_fit__writes_run_dir_and_logs(tmp_path):
    assert _pretrain(tmp_path, "r", "--steps", "6") == 0
    run = tmp_path / "r"
    assert {p.name for p in run.iterdir()} >= {"config.yaml", "run.json", "modality_state.json",
                                               "metrics.jsonl", "checkpoints"}
    rows = _metrics(run)
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {"loss", "lr", "momentum", "weight_decay", "samples_per_s", "target_std", "target_rank"} <= set(rows[0])


def test_fit__loss_decreases(tmp_path):
    assert _pretrain(tmp_path, "r", "--steps", "60", "--set", "optim.lr=3e-3") == 0
    losses = [r["loss"] for r in _metrics(tmp_path / "r")]
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:10]) / 10


def test_resume__matches_uninterrupted_run_bit_for_bit(tmp_path):
    assert _pretrain(tmp_path, "straight", "--steps", "12") == 0
    assert _pretrain(tmp_path, "resumed", "--steps", "12", "--stop-after", "5") == 0
    assert latest_checkpoint(tmp_path / "resumed" / "checkpoints") == "step-00000005"
    assert _pretrain(tmp_path, "resumed", "--steps", "12", "--resume") == 0
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a), "resumed weights differ from the straight run"


def test_resume__finished_run_does_nothing(tmp_path):
    assert _pretrain(tmp_path, "r", "--steps", "3") == 0
    assert _pretrain(tmp_path, "r", "--steps", "3", "--resume") == 0


def test_pretrain__existing_run_needs_resume(tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "2") == 0
    assert _pretrain(tmp_path, "r", "--steps", "2") == 2
    assert "already holds a run" in capsys.readouterr().err


def test_nan_loss__stops_and_keeps_last_checkpoint(tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "4") == 0
    before = _weights(tmp_path / "r")
    bad = write_toy_data(tmp_path / "bad.npy")
    import numpy as np
    x = np.load(bad)
    x[:] = np.nan
    np.save(bad, x)
    code = cli.main(["pretrain", "toy", "--data", str(bad), "--out", str(tmp_path / "r"),
                     "--steps", "8", "--resume"])
    assert code == 2
    err = capsys.readouterr().err
    assert "loss became nan at step 4" in err and "last good checkpoint (step 4)" in err
    after = _weights(tmp_path / "r")
    assert all((before[k] == after[k]).all() for k in before)


def test_frozen_teacher__loaded_from_another_run_and_never_updated(tmp_path):
    assert _pretrain(tmp_path, "teacher", "--steps", "4") == 0
    teacher = _weights(tmp_path / "teacher")
    assert _pretrain(tmp_path, "student", "--steps", "4", "--set", "target.kind=frozen",
                     "--set", f"target.frozen_run={tmp_path / 'teacher'}") == 0
    student = _weights(tmp_path / "student")
    frozen = {k[len("target.encoder."):]: v for k, v in student.items() if k.startswith("target.encoder.")}
    expected = {k[len("target.encoder."):]: v for k, v in teacher.items() if k.startswith("target.encoder.")}
    assert frozen.keys() == expected.keys() and all(torch.equal(frozen[k], expected[k]) for k in frozen)


def test_frozen_teacher__missing_run_is_a_clear_error(tmp_path, capsys):
    assert _pretrain(tmp_path, "s", "--steps", "2", "--set", "target.kind=frozen") == 2
    assert "target.frozen_run" in capsys.readouterr().err


def test_teacher_free_sigreg__trains_without_a_target_copy(tmp_path):
    assert _pretrain(tmp_path, "r", "--steps", "20", "--set", "target.kind=none", "--set", "objective.sigreg=0.1",
                     "--set", "objective.sigreg_slices=16", "--set", "objective.loss=l2") == 0
    rows = _metrics(tmp_path / "r")
    assert all("sigreg" in r for r in rows)
    assert not any(k.startswith("target.encoder.") for k in _weights(tmp_path / "r"))
