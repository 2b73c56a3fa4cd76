"""The image plugin from the command line: pretrain, resume bit for bit, embed, probe, errors.

The commands run in-process (``jepa_core.cli.main``) to keep the file fast.
"""

from __future__ import annotations

import json

import numpy as np

from jepa_core.cli import main as jepa
from jepa_core.train.checkpoint import load_weights

from .images import flat_folder, image_folder

TINY = ["--set", "model.dim=16", "--set", "model.depth=1", "--set", "model.heads=2",
        "--set", "model.predictor_dim=16", "--set", "model.predictor_depth=1",
        "--set", "model.predictor_heads=2", "--set", "options.image_size=16",
        "--set", "options.patch_size=2", "--set", "logging.progress=false"]


def _weights(run):
    return {k: v.numpy() for k, v in load_weights(run / "checkpoints").items()}


def test_cli__pretrain_resume_is_exact_then_embed_and_probe(tmp_path, capsys):
    data = image_folder(tmp_path / "d", classes=2, per_class=8)
    common = ["pretrain", "image", "--data", str(data), "--steps", "4", "--batch-size", "4", *TINY]
    whole, split = tmp_path / "whole", tmp_path / "split"
    assert jepa([*common, "--out", str(whole), "--set", "data.num_workers=2"]) == 0  # decoded in workers
    assert jepa([*common, "--out", str(split), "--stop-after", "2", "--set", "data.num_workers=0"]) == 0
    assert jepa([*common, "--out", str(split), "--resume"]) == 0
    a, b = _weights(whole), _weights(split)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    capsys.readouterr()

    assert jepa(["embed", str(whole), "--out", str(tmp_path / "e.npy")]) == 0
    assert np.load(tmp_path / "e.npy").shape == (16, 16)
    capsys.readouterr()
    assert jepa(["probe", str(whole), "--label", "folder"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metric"] == "accuracy" and {"pretrained", "random_init", "raw"} <= result.keys()


def test_cli__bad_inputs_are_one_error_line(tmp_path, capsys):
    data = image_folder(tmp_path / "d", per_class=2)
    (data / "c0" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(tmp_path / "r"), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "broken.png" in err and len(err.strip().splitlines()) == 1
    flat = flat_folder(tmp_path / "flat", count=8)
    assert jepa(["pretrain", "image", "--data", str(flat), "--out", str(tmp_path / "f"), "--steps", "1",
                 "--batch-size", "4", "--set", "data.num_workers=0", *TINY]) == 0
    capsys.readouterr()
    assert jepa(["probe", str(tmp_path / "f"), "--label", "folder"]) == 2
    err = capsys.readouterr().err
    assert "flat folder" in err and err.startswith("error: ")


def test_cli__file_that_only_fails_when_decoded_in_a_worker(tmp_path, capsys):
    data = image_folder(tmp_path / "d", per_class=4, size=64, suffix=".jpg")
    bad = data / "c0" / "0.jpg"
    raw = bad.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])  # with verify off, only decoding finds it
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(tmp_path / "r"), "--steps", "2",
                 "--batch-size", "8", "--set", "data.num_workers=2", "--set", "options.verify=false",
                 *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines()[-1].startswith(f"error: {bad}: cannot decode") and "Traceback" not in err


def test_cli__issue_spelling_model_preset_and_data_image_size(tmp_path, capsys):
    data = image_folder(tmp_path / "d", per_class=2, size=32)
    run = tmp_path / "r"
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(run), "--steps", "1",
                 "--batch-size", "2", "--set", "data.num_workers=0", "--set", "logging.progress=false",
                 "--set", "model.preset=vit_tiny_16", "--set", "data.image_size=80"]) == 0
    state = json.loads((run / "modality_state.json").read_text())["options"]
    assert (state["image_size"], state["patch_size"], state["preset"]) == (80, 16, "vit_tiny_16")
    assert "dim: 192" in (run / "config.yaml").read_text()
    capsys.readouterr()
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(tmp_path / "x"), "--steps", "1",
                 "--set", "data.image_size=80", "--set", "options.image_size=64"]) == 2
    assert "data.image_size=80 and options.image_size=64 are the same setting" in capsys.readouterr().err


def test_cli__skipped_images_are_counted_at_the_end(tmp_path, capsys):
    data = image_folder(tmp_path / "d", per_class=4, size=64, suffix=".jpg")
    bad = data / "c0" / "0.jpg"
    raw = bad.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])  # with verify off, only decoding (in a worker) finds it
    (data / "c1" / "empty.jpg").write_bytes(b"")  # found while listing
    skip = ["--set", "options.on_bad_image=skip", "--set", "options.verify=false"]
    run = tmp_path / "r"
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(run), "--steps", "2",
                 "--batch-size", "8", "--set", "data.num_workers=2", *skip, *TINY]) == 0
    err = capsys.readouterr().err
    end = err.strip().splitlines()[-1]
    assert end.startswith("skipped 2 bad image(s) (options.on_bad_image=skip): 1 left out while listing")
    assert "empty.jpg" in end and f"1 replaced by grey when they failed to decode: {bad}" in end
    assert err.count(f"warning: skipped {bad}") == 1  # warned once, though both encoders saw it
    assert jepa(["embed", str(run), "--out", str(tmp_path / "e.npy")]) == 0
    assert "skipped 2 bad image(s)" in capsys.readouterr().err


def test_cli__embed_and_probe_at_another_image_size(tmp_path, capsys):
    data = image_folder(tmp_path / "d", classes=2, per_class=4, size=32)
    run = tmp_path / "r"
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(run), "--steps", "1",
                 "--batch-size", "4", "--set", "data.num_workers=0", *TINY]) == 0  # 16 px: 8 x 8 tokens
    out = {name: tmp_path / f"{name}.npy" for name in ("trained", "same", "double", "tokens")}
    assert jepa(["embed", str(run), "--out", str(out["trained"])]) == 0
    assert jepa(["embed", str(run), "--out", str(out["same"]), "--set", "data.image_size=16"]) == 0
    assert np.array_equal(np.load(out["trained"]), np.load(out["same"]))
    assert jepa(["embed", str(run), "--out", str(out["double"]), "--set", "data.image_size=32"]) == 0
    double = np.load(out["double"])
    assert double.shape == (8, 16) and np.isfinite(double).all()
    assert not np.allclose(double, np.load(out["trained"]))
    assert jepa(["embed", str(run), "--out", str(out["tokens"]), "--tokens",
                 "--set", "options.image_size=32"]) == 0
    assert np.load(out["tokens"]).shape == (8, 256, 16)  # a 16 x 16 grid of 2 px patches
    capsys.readouterr()
    assert jepa(["probe", str(run), "--label", "folder", "--probe", "knn", "--set", "data.image_size=32"]) == 0
    assert json.loads(capsys.readouterr().out)["metric"] == "accuracy"

    assert jepa(["embed", str(run), "--out", str(tmp_path / "x.npy"), "--set", "data.image_size=33"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: options.patch_size=2 must divide options.image_size=33")
    assert jepa(["embed", str(run), "--out", str(tmp_path / "x.npy"), "--set", "model.dim=8"]) == 2
    assert "--set model.dim: embed and probe use the trained run's config" in capsys.readouterr().err


def test_cli__probe_csv_labels_with_knn_and_folder_with_attentive(tmp_path, capsys):
    data = image_folder(tmp_path / "d", classes=2, per_class=6)
    (data / "labels.csv").write_text("path,label\n" + "".join(
        f"c{k}/{i}.png,{'ab'[k]}\n" for k in range(2) for i in range(6)))
    run = tmp_path / "r"
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(run), "--steps", "1",
                 "--batch-size", "4", "--set", "data.num_workers=0", *TINY]) == 0
    capsys.readouterr()
    for flags in (["--label", str(data / "labels.csv"), "--probe", "knn"],
                  ["--label", "folder", "--probe", "attentive"]):
        assert jepa(["probe", str(run), *flags]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["metric"] == "accuracy" and {"pretrained", "random_init", "raw"} <= result.keys()
        assert result["probe"] == flags[-1]


def test_cli__online_knn_probe_and_plot_while_pretraining(tmp_path, capsys):
    data = image_folder(tmp_path / "d", classes=2, per_class=6)
    run = tmp_path / "r"
    assert jepa(["pretrain", "image", "--data", str(data), "--out", str(run), "--steps", "2",
                 "--batch-size", "4", "--set", "data.num_workers=0", "--probe-label", "folder",
                 "--set", "logging.probe_every=1", *TINY]) == 0
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    probes = [r for r in rows if "probe_accuracy" in r]
    assert [r["step"] for r in probes] == [0, 1, 2]  # step 0: the random-init reference
    assert all(0.0 <= r["probe_accuracy"] <= 1.0 for r in probes)
    assert any("target_rank" in r and "target_std" in r for r in rows)  # the collapse monitors
    capsys.readouterr()
    assert jepa(["plot", str(run)]) == 0
    assert (run / "metrics.png").stat().st_size > 0
