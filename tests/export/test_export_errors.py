"""`jepa export` refuses bad input with one clear error line."""

from __future__ import annotations

import json
import shutil

from safetensors.torch import load_file, save_file

from .runs import image_run, quiet


def _export(run, out, *extra) -> tuple[int, str]:
    return quiet(["export", str(run), "--format", "hf", "--out", str(out), *extra])


def test_export__refuses_bad_runs_and_existing_folders(tmp_path, capsys):
    run, _ = image_run(tmp_path, steps=1)

    empty = tmp_path / "no_ckpt"  # a run directory whose checkpoints are gone
    shutil.copytree(run, empty, ignore=shutil.ignore_patterns("checkpoints"))
    assert _export(empty, tmp_path / "a")[0] == 2
    assert "has no checkpoint yet" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()
    assert _export(tmp_path / "nothing", tmp_path / "a")[0] == 2
    assert "is not a run directory" in capsys.readouterr().err

    out = tmp_path / "hub"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert _export(run, out)[0] == 2
    err = capsys.readouterr().err
    assert "already exists and is not empty (it holds notes.txt)" in err and "--force" in err
    (tmp_path / "file").write_text("x")
    assert _export(run, tmp_path / "file")[0] == 2
    assert "is a file" in capsys.readouterr().err
    code, printed = _export(run, out, "--force")
    assert code == 0 and json.loads(printed)["format"] == "ijepa"
    assert (out / "notes.txt").read_text() == "mine" and (out / "model.safetensors").is_file()
    assert "Traceback" not in capsys.readouterr().err

    bad = tmp_path / "bad"  # a checkpoint with a tensor missing and one too many
    shutil.copytree(run, bad)
    (ckpt,) = [p for p in (bad / "checkpoints").glob("step-*.safetensors") if ".optim" not in p.name]
    weights = load_file(ckpt)
    weights.pop("encoder.transformer.norm.bias")
    weights["encoder.surplus"] = weights["encoder.transformer.norm.weight"].clone()
    save_file(weights, ckpt)
    assert _export(bad, tmp_path / "b")[0] == 2
    err = capsys.readouterr().err
    assert "missing tensors ['encoder.transformer.norm.bias']" in err and "extra tensors ['encoder.surplus']" in err


def test_export__without_transformers_says_which_extra(monkeypatch):
    import importlib.util

    import pytest

    from jepa_core.config import ConfigError
    from jepa_core.export import require_transformers

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "transformers" else real(name, *a))
    with pytest.raises(ConfigError, match=r"model.init_hf needs the transformers package: pip install 'jepa-core\[hf\]'"):
        require_transformers("model.init_hf")
