"""The video plugin from the command line, on clips written here: pretrain, resume, embed, probe.

The commands run in-process (``jepa_core.cli.main``) to keep the file fast.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from jepa_core.cli import main as jepa
from jepa_core.train.checkpoint import load_weights

from .clips import class_folder, moving_clip, write_frames

TINY = ["--set", "model.dim=16", "--set", "model.depth=1", "--set", "model.heads=2",
        "--set", "model.predictor_dim=16", "--set", "model.predictor_depth=1",
        "--set", "model.predictor_heads=2", "--set", "options.image_size=16",
        "--set", "options.patch_size=4", "--set", "options.frames_per_clip=4",
        "--set", "logging.progress=false"]


def _weights(run):
    return {k: v.numpy() for k, v in load_weights(run / "checkpoints").items()}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    return class_folder(tmp_path_factory.mktemp("clips") / "clips", per_class=6)


def test_cli__pretrain_resume_embed_probe_on_new_clips(clips, tmp_path, capsys):
    common = ["pretrain", "video", "--data", str(clips), "--steps", "4", "--batch-size", "4", *TINY]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert jepa([*common, "--out", str(whole), "--set", "data.num_workers=2"]) == 0  # decoded in workers
    assert jepa([*common, "--out", str(split), "--stop-after", "2", "--set", "data.num_workers=0"]) == 0
    assert jepa([*common, "--out", str(split), "--resume"]) == 0
    a, b = _weights(whole), _weights(split)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    capsys.readouterr()

    assert jepa(["embed", str(whole), "--out", str(tmp_path / "e.npy")]) == 0
    assert np.load(tmp_path / "e.npy").shape == (12, 16)
    capsys.readouterr()
    for probe in ("linear", "attentive"):
        assert jepa(["probe", str(whole), "--label", "folder", "--probe", probe]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["probe"] == probe and result["n_train"] + result["n_test"] == 12
        assert {"pretrained", "random_init", "raw"} <= result.keys()

    images = tmp_path / "images"  # frame-level use: images as one-frame clips
    write_frames(images / "cats", moving_clip(3, size=24), names=["a.png", "b.png", "c.png"])
    assert jepa(["embed", str(whole), "--data", f"images:{images}", "--out", str(tmp_path / "i.npy")]) == 0
    feats = np.load(tmp_path / "i.npy")
    assert feats.shape == (3, 16) and np.isfinite(feats).all()
    capsys.readouterr()


@pytest.mark.parametrize("variant", [
    ["--set", "target.kind=none", "--set", "objective.sigreg=1.0"],          # SIGReg, teacher-free
    ["--set", "mask.name=temporal", "--set", "mask.frames=1"],              # predict the future
])
def test_cli__objective_and_mask_variants_train(clips, tmp_path, variant, capsys):
    out = tmp_path / "run"
    assert jepa(["pretrain", "video", "--data", str(clips), "--out", str(out), "--steps", "3",
                 "--batch-size", "4", "--set", "data.num_workers=0", *TINY, *variant]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert np.isfinite(summary["final_loss"])


def test_cli__frozen_teacher_from_another_run(clips, tmp_path, capsys):
    base = ["pretrain", "video", "--data", str(clips), "--steps", "2", "--batch-size", "4",
            "--set", "data.num_workers=0", *TINY]
    assert jepa([*base, "--out", str(tmp_path / "teacher")]) == 0
    assert jepa([*base, "--out", str(tmp_path / "student"), "--set", "target.kind=frozen",
                 "--set", f"target.frozen_run={tmp_path / 'teacher'}"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert np.isfinite(summary["final_loss"])


def test_cli__bad_clip_is_one_error_line(clips, tmp_path, capsys):
    bad = tmp_path / "bad"
    (bad / "c0").mkdir(parents=True)
    np.save(bad / "c0" / "wrong.npy", np.zeros((4, 16, 16), dtype=np.uint8))
    assert jepa(["pretrain", "video", "--data", str(bad), "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "wrong.npy" in err and len(err.strip().splitlines()) == 1
