import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from jepa_core import cli
from jepa_core.registry import register_modality
from jepa_core.run import RunDir
from jepa_core.train import checkpoint
from jepa_core.train.checkpoint import latest_checkpoint
from jepa_core.train import Trainer
from jepa_core.train.progress import ProgressLogger
from tests.toy_modality import ToyModality, write_toy_data

register_modality("toy", ToyModality)
DIST_CLI = Path(__file__).resolve().parent / "dist_cli.py"


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


def test_resume__a_set_that_changes_the_architecture_is_refused_before_anything_is_written(tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "4", "--stop-after", "2") == 0
    run = tmp_path / "r"
    before = {name: (run / name).read_bytes() for name in ("config.yaml", "modality_state.json")}
    capsys.readouterr()
    assert _pretrain(tmp_path, "r", "--steps", "4", "--resume", "--set", "model.depth=3") == 2
    err = capsys.readouterr().err
    assert "step-00000002.safetensors does not fit the model this --resume builds (missing tensors" in err
    assert "Traceback" not in err and "RuntimeError" not in err
    assert {name: (run / name).read_bytes() for name in before} == before  # the run is left as it was
    assert _pretrain(tmp_path, "r", "--steps", "4", "--resume") == 0


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


def _checkpoints(run):
    return sorted(p.name for p in (run / "checkpoints").glob("step-*.json"))


def test_nan_loss__a_blown_up_checkpoint_is_dropped_and_the_good_step_named(tmp_path, capsys):
    code = _pretrain(tmp_path, "r", "--steps", "20", "--set", "optim.lr=1e6", "--set", "logging.checkpoint_every=1")
    assert code == 2
    err = capsys.readouterr().err
    step = int(re.search(r"loss became nan at step (\d+)", err).group(1))
    assert f"last good checkpoint (step {step - 1})" in err, err
    run = tmp_path / "r"
    assert latest_checkpoint(run / "checkpoints") == f"step-{step - 1:08d}"
    assert _checkpoints(run)[-1] == f"step-{step - 1:08d}.json"
    assert all(torch.isfinite(v).all() for v in _weights(run).values() if v.is_floating_point())


def test_nan_loss__before_any_checkpoint_says_there_is_none(tmp_path, capsys):
    code = _pretrain(tmp_path, "r", "--steps", "20", "--set", "optim.lr=1e6", "--set", "logging.checkpoint_every=5")
    assert code == 2
    err = capsys.readouterr().err
    assert "No checkpoint was written before it" in err and "(step 0)" not in err
    assert cli.main(["embed", str(tmp_path / "r"), "--out", str(tmp_path / "e.npy")]) == 2
    assert "has no checkpoint yet" in capsys.readouterr().err


def test_pretrain__a_run_that_failed_before_any_checkpoint_reruns_fixed(tmp_path, capsys):
    """The failed run holds nothing to continue: the fixed command runs as typed, no --resume."""
    args = ["--steps", "6", "--set", "logging.checkpoint_every=5"]
    assert _pretrain(tmp_path, "r", *args, "--set", "optim.lr=1e6") == 2
    assert "No checkpoint was written before it" in capsys.readouterr().err
    assert _pretrain(tmp_path, "r", *args) == 0
    run = tmp_path / "r"
    assert "lr: 1000000" not in (run / "config.yaml").read_text()
    steps = [json.loads(ln)["step"] for ln in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 6  # the failed run's lines are gone
    assert _pretrain(tmp_path, "r", *args) == 2  # now it has checkpoints: protected again
    assert "already holds a run" in capsys.readouterr().err


def test_embed__refuses_weights_that_give_nan_features(tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "2") == 0
    ckpt = tmp_path / "r" / "checkpoints"
    path = ckpt / f"{latest_checkpoint(ckpt)}.safetensors"
    save_file({k: v * 1e30 if v.is_floating_point() else v for k, v in load_file(str(path)).items()}, str(path))
    assert cli.main(["embed", str(tmp_path / "r"), "--out", str(tmp_path / "e.npy")]) == 2
    assert "gives NaN/inf features" in capsys.readouterr().err
    assert not (tmp_path / "e.npy").exists()


def test_embed__nonfinite_or_damaged_newest_checkpoint_falls_back_with_a_warning(tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "4", "--set", "logging.checkpoint_every=2") == 0
    ckpt = tmp_path / "r" / "checkpoints"
    save_file({k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
               for k, v in load_file(str(ckpt / "step-00000004.safetensors")).items()},
              str(ckpt / "step-00000004.safetensors"))
    capsys.readouterr()
    assert cli.main(["embed", str(tmp_path / "r"), "--out", str(tmp_path / "e.npy")]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "step-00000004.safetensors holds NaN/inf" in err and "step 2 instead" in err
    (ckpt / "step-00000002.safetensors").write_bytes(b"\x08\x00")
    assert cli.main(["embed", str(tmp_path / "r"), "--out", str(tmp_path / "e.npy")]) == 2
    err = capsys.readouterr().err
    assert "error: no intact checkpoint" in err and "step-00000002.safetensors is not a readable" in err
    assert "Traceback" not in err


def test_resume__missing_latest_json_scans_instead_of_restarting(tmp_path, capsys):
    assert _pretrain(tmp_path, "straight", "--steps", "8") == 0
    assert _pretrain(tmp_path, "r", "--steps", "8", "--stop-after", "6", "--set", "logging.checkpoint_every=2") == 0
    (tmp_path / "r" / "checkpoints" / "latest.json").unlink()
    assert _pretrain(tmp_path, "r", "--steps", "8", "--resume") == 0
    assert "latest.json is missing; resuming from the checkpoint of step 6" in capsys.readouterr().err
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "r")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [r["step"] for r in _metrics(tmp_path / "r")] == list(range(1, 9))


@pytest.mark.parametrize("damage", ["truncate weights", "truncate optimizer", "garbage trainer json",
                                    "garbage latest.json", "latest.json names another run"])
def test_resume__damaged_newest_checkpoint_is_named_and_skipped(damage, tmp_path, capsys):
    assert _pretrain(tmp_path, "straight", "--steps", "8") == 0
    assert _pretrain(tmp_path, "other", "--steps", "2") == 0
    assert _pretrain(tmp_path, "r", "--steps", "8", "--stop-after", "6", "--set", "logging.checkpoint_every=2") == 0
    ckpt = tmp_path / "r" / "checkpoints"
    target = {"truncate weights": "step-00000006.safetensors", "truncate optimizer": "step-00000006.optim.safetensors",
              "garbage trainer json": "step-00000006.json"}.get(damage, "latest.json")
    if damage.startswith("truncate"):
        (ckpt / target).write_bytes((ckpt / target).read_bytes()[:100])
    elif damage == "latest.json names another run":
        (ckpt / target).write_text(json.dumps({"step": 2, "tag": "../../other/checkpoints/step-00000002"}))
    else:
        (ckpt / target).write_text("{not json")
    capsys.readouterr()
    assert _pretrain(tmp_path, "r", "--steps", "8", "--resume") == 0
    err = capsys.readouterr().err
    assert f"{ckpt / target}" in err and "warning:" in err and "Traceback" not in err
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "r")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_lock__a_second_writer_is_refused_and_named(tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "2") == 0
    with RunDir(tmp_path / "r").lock():
        assert _pretrain(tmp_path, "r", "--steps", "4", "--resume") == 2
        assert _pretrain(tmp_path, "fresh", "--steps", "4") == 0  # another --out is free
    err = capsys.readouterr().err
    assert f"is in use by another jepa process (pid {os.getpid()} on" in err
    assert json.loads((tmp_path / "r" / "checkpoints" / "latest.json").read_text())["step"] == 2
    assert _pretrain(tmp_path, "r", "--steps", "4", "--resume") == 0  # released on exit


def test_lock__a_lock_file_left_by_a_dead_process_does_not_block(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    (run / ".lock").write_text(json.dumps({"pid": 999999999, "host": "gone", "since": "yesterday"}))
    assert _pretrain(tmp_path, "r", "--steps", "2") == 0


def test_lock__two_processes_on_one_out(tmp_path, capsys):
    data = write_toy_data(tmp_path / "x.npy")
    out = tmp_path / "r"
    args = ["pretrain", "toy", "--data", str(data), "--out", str(out), "--steps", "100000",
            "--set", "logging.checkpoint_every=1"]
    proc = subprocess.Popen([sys.executable, str(DIST_CLI), *args], env={**os.environ, "OMP_NUM_THREADS": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while latest_checkpoint(out / "checkpoints") is None:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        assert cli.main([*args, "--resume"]) == 2
        assert cli.main(args) == 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    err = capsys.readouterr().err
    assert f"in use by another jepa process (pid {proc.pid} on" in err
    assert cli.main([*args[:-4], "--steps", "3", "--resume"]) == 0  # the kernel dropped the dead holder's lock


def test_out__a_non_run_directory_is_refused_without_force(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.yaml").write_text("my: own file\n")
    assert _pretrain(tmp_path, "mine", "--steps", "2") == 2
    err = capsys.readouterr().err
    assert "is a non-empty directory that is not a run (it holds config.yaml)" in err and "--force" in err
    assert (mine / "config.yaml").read_text() == "my: own file\n" and sorted(os.listdir(mine)) == ["config.yaml"]
    assert _pretrain(tmp_path, "mine", "--steps", "2", "--resume") == 2
    assert _pretrain(tmp_path, "mine", "--steps", "2", "--force") == 0
    (tmp_path / "empty").mkdir()
    assert _pretrain(tmp_path, "empty", "--steps", "2") == 0


def test_out__a_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert _pretrain(tmp_path, "f", "--steps", "2") == 2
    assert "--out" in capsys.readouterr().err and (tmp_path / "f").read_text() == "x"


@pytest.mark.parametrize("extra, message", [
    (["--batch-size", "1000"], "fewer than one batch of 1000"),
    (["--set", "mask.context_ratio=1.5"], "context_ratio"),
    (["--set", "model.heads=3"], "does not split into model.heads 3"),
    (["--steps", "0"], "optim.steps (--steps) must be at least 1"),
    (["--set", "target.kind=frozen"], "target.frozen_run"),
])
def test_failed_check__writes_nothing_and_the_fixed_command_runs(extra, message, tmp_path, capsys):
    assert _pretrain(tmp_path, "r", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
    assert _pretrain(tmp_path, "r", "--steps", "2") == 0


@pytest.mark.parametrize("extra, message", [
    (["--set", "model.dim=-3"], "model.dim must be at least 1, got -3"),
    (["--set", "model.depth=0"], "model.depth must be at least 1, got 0"),
    (["--set", "model.heads=0"], "model.heads must be at least 1"),
    (["--set", "model.predictor_depth=-1"], "predictor.depth must be at least 1"),
    (["--set", "predictor.heads=0"], "predictor.heads must be at least 1"),
    (["--set", "model.mlp_ratio=0"], "model.mlp_ratio must be above 0"),
    (["--batch-size", "0"], "data.batch_size (--batch-size) must be at least 1, got 0"),
    (["--batch-size", "-4"], "data.batch_size (--batch-size) must be at least 1, got -4"),
    (["--set", "logging.checkpoint_every=0"], "logging.checkpoint_every must be at least 1"),
    (["--set", "data.num_workers=-1"], "data.num_workers must be 0 or more"),
    (["--stop-after", "0"], "--stop-after must be at least 1"),
])
def test_sizes__non_positive_is_a_config_error(extra, message, tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "2", *extra) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1] == f"error: {message}" or message in err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_device__cuda_without_cuda_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert _pretrain(tmp_path, "r", "--steps", "2", "--device", "cuda") == 2
    assert "error: --device cuda was asked for, but no CUDA device is available" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_disk_full__says_so_and_leaves_latest_on_a_whole_checkpoint(tmp_path, capsys, monkeypatch):
    writes = []

    def full_disk(tensors, path):
        writes.append(path)
        if len(writes) == 4:  # the second checkpoint's optimizer file
            raise OSError(errno.ENOSPC, "No space left on device")
        save_file(tensors, path)

    monkeypatch.setattr(checkpoint, "save_file", full_disk)
    assert _pretrain(tmp_path, "r", "--steps", "6", "--set", "logging.checkpoint_every=2") == 2
    err = capsys.readouterr().err
    assert "could not write the checkpoint of step 4" in err and "the disk is full" in err
    assert "latest.json names step-00000002" in err and "Traceback" not in err
    ckpt = tmp_path / "r" / "checkpoints"
    assert sorted(p.name for p in ckpt.iterdir()) == [
        "latest.json", "step-00000002.json", "step-00000002.optim.safetensors", "step-00000002.safetensors"]
    monkeypatch.undo()
    assert _pretrain(tmp_path, "r", "--steps", "6", "--resume") == 0
    assert _pretrain(tmp_path, "straight", "--steps", "6") == 0
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "r")
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal__saves_at_the_step_boundary_and_exits(signum, status, tmp_path, capsys, monkeypatch):
    real_step, steps = Trainer.train_step, []

    def step_then_signal(self, step, ids, batch):
        stats = real_step(self, step, ids, batch)
        steps.append(step)
        if len(steps) == 3:  # arrives during the third step
            signal.raise_signal(signum)
        return stats

    monkeypatch.setattr(Trainer, "train_step", step_then_signal)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    assert _pretrain(tmp_path, "r", "--steps", "8") == status
    err = capsys.readouterr().err
    assert f"interrupted: {signal.Signals(signum).name} received: stopped at step 3" in err and "--resume" in err
    assert latest_checkpoint(tmp_path / "r" / "checkpoints") == "step-00000003"
    assert {s: signal.getsignal(s) for s in before} == before  # the caller's handlers are back
    monkeypatch.undo()
    assert _pretrain(tmp_path, "r", "--steps", "8", "--resume") == 0
    assert _pretrain(tmp_path, "straight", "--steps", "8") == 0
    a, b = _weights(tmp_path / "straight"), _weights(tmp_path / "r")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_out__a_run_half_written_by_a_dead_pretrain_does_not_block(tmp_path, monkeypatch):
    import jepa_core.run

    class Killed(BaseException):
        pass

    def die_writing_state(path, text):
        if path.name == "modality_state.json":
            raise Killed  # killed between config.yaml and modality_state.json
        checkpoint.atomic_write_text(path, text)

    monkeypatch.setattr(jepa_core.run, "atomic_write_text", die_writing_state)
    with pytest.raises(Killed):
        _pretrain(tmp_path, "r", "--steps", "2")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path / "r")) == [".lock", "config.yaml", "run.json"]
    assert _pretrain(tmp_path, "r", "--steps", "2") == 0


def test_signal__ctrl_c_on_a_real_process(tmp_path):
    data = write_toy_data(tmp_path / "x.npy")
    out = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, str(DIST_CLI), "pretrain", "toy", "--data", str(data), "--out", str(out),
                             "--steps", "100000"], env={**os.environ, "OMP_NUM_THREADS": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / "metrics.jsonl").is_file() or not (out / "metrics.jsonl").read_text():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    step = int(re.search(r"interrupted: SIGINT received: stopped at step (\d+)", err).group(1))
    assert latest_checkpoint(out / "checkpoints") == f"step-{step:08d}" and "Traceback" not in err
    assert _metrics(out)[-1]["step"] == step


def test_schedule_steps__longer_run_is_the_shorter_one_continued_at_min_lr(tmp_path):
    assert _pretrain(tmp_path, "short", "--steps", "6", "--set", "optim.min_lr=1e-4") == 0
    assert _pretrain(tmp_path, "long", "--steps", "12", "--set", "optim.schedule_steps=6",
                     "--set", "optim.min_lr=1e-4") == 0
    short, long = _metrics(tmp_path / "short"), _metrics(tmp_path / "long")
    for key in ("lr", "weight_decay"):
        assert [r[key] for r in long[:6]] == pytest.approx([r[key] for r in short[:6]])
    assert [r["lr"] for r in long[6:]] == pytest.approx([1e-4] * 6)
    assert len({r["weight_decay"] for r in long[6:]}) == 1
    assert long[-1]["momentum"] > long[6]["momentum"]  # the EMA schedule still spans the run


def test_schedule_steps__non_positive_is_a_config_error(tmp_path, capsys):
    assert _pretrain(tmp_path, "r", "--steps", "2", "--set", "optim.schedule_steps=0") == 2
    err = capsys.readouterr().err
    assert "optim.schedule_steps must be at least 1" in err and "Traceback" not in err
