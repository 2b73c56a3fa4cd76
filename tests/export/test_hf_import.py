"""A transformers I-JEPA checkpoint as the encoder's initialization (model.init_hf) or frozen teacher."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import IJepaConfig, IJepaModel

from jepa_core.config import ConfigError, build_config
from jepa_core.export.ijepa import encoder_to_ijepa
from jepa_core.registry import create_modality
from jepa_core.run import build_model, load_run
from jepa_core.train.checkpoint import load_weights
from tests.modalities.image.images import image_folder

from .runs import image_run, quiet

#: The tiny image preset of .runs (16 px, 2 px patches, 16 wide, 2 deep, 2 heads, MLP x4).
TINY_MODEL = {"dim": 16, "depth": 2, "heads": 2, "predictor_dim": 16, "predictor_depth": 1, "predictor_heads": 2}
TINY_HF = {"hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
           "image_size": 16, "patch_size": 2, "layer_norm_eps": 1e-6}


def _checkpoint(folder, **changes) -> tuple[IJepaModel, str]:
    torch.manual_seed(1)
    model = IJepaModel(IJepaConfig(**{**TINY_HF, **changes})).eval()
    model.save_pretrained(folder)
    return model, str(folder)


def _build(tmp_path, **sections):
    plugin = create_modality("image")
    data = tmp_path / "images" if (tmp_path / "images").exists() else image_folder(tmp_path / "images", 2, 2)
    model = {**TINY_MODEL, **sections.pop("model", {})}
    cfg = build_config(plugin.default_config(), {"modality": "image", "model": model,
                                                 "options": {"image_size": 16, "patch_size": 2}, **sections})
    _, state = plugin.load(str(data), cfg, None)
    return build_model(cfg, plugin, state)


def _same_as_hf(encoder, hf: IJepaModel) -> None:
    ours, theirs = encoder_to_ijepa(encoder), hf.state_dict()
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k].reshape(ours[k].shape)) for k in ours)
    images = torch.randint(0, 256, (2, 3, 16, 16), dtype=torch.uint8)
    with torch.no_grad():
        mine = encoder(encoder.tokenize({"image": images}))
        mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
        pixels = (images / 255.0 - mean[:, None, None]) / std[:, None, None]
        assert float((mine - hf(pixel_values=pixels).last_hidden_state).abs().max()) <= 1e-4


def test_init_hf__encoder_and_ema_teacher_start_from_the_checkpoint(tmp_path):
    hf, folder = _checkpoint(tmp_path / "hf")
    model = _build(tmp_path, model={"init_hf": folder})
    _same_as_hf(model.encoder, hf)
    _same_as_hf(model.target.encoder, hf)  # the EMA teacher is its copy
    assert model.encoder.transformer.norm.eps == 1e-6  # the checkpoint's, not PyTorch's default
    run, _ = image_run(tmp_path, "--set", f"model.init_hf={folder}")  # and it trains
    assert load_run(run).cfg.model.init_hf == folder
    assert quiet(["export", str(run), "--out", str(tmp_path / "hub")])[0] == 0  # keeps positions and eps
    exported = IJepaModel.from_pretrained(tmp_path / "hub")
    assert exported.config.layer_norm_eps == 1e-6
    assert torch.equal(exported.embeddings.position_embeddings, hf.embeddings.position_embeddings)


def test_frozen_hf__a_wider_teacher_trains_the_student_and_stays_unchanged(tmp_path):
    hf, folder = _checkpoint(tmp_path / "hf", hidden_size=32, num_attention_heads=4, intermediate_size=128,
                             layer_norm_eps=1e-6)
    run, _ = image_run(tmp_path, "--set", "target.kind=frozen", "--set", f"target.frozen_hf={folder}")
    saved = load_weights(run / "checkpoints")
    teacher = load_run(run).model.target.encoder
    for name, value in teacher.state_dict().items():
        assert torch.equal(saved[f"target.encoder.{name}"], value)
    _same_as_hf(teacher, hf)  # after two steps: exactly the checkpoint's weights and outputs


def test_hf_import__refuses_what_does_not_fit(tmp_path):
    _, good = _checkpoint(tmp_path / "good")
    with pytest.raises(ConfigError, match="target.frozen_hf is not a field of target 'ema'"):
        _build(tmp_path, target={"frozen_hf": good})
    (tmp_path / "vit").mkdir()
    (tmp_path / "vit" / "config.json").write_text(json.dumps({"model_type": "vit"}))
    with pytest.raises(ConfigError, match="is not an I-JEPA model.*'vit'"):
        _build(tmp_path, model={"init_hf": str(tmp_path / "vit")})
    with pytest.raises(ConfigError, match="no config.json"):
        _build(tmp_path, model={"init_hf": str(tmp_path / "nowhere")})
    _, patch4 = _checkpoint(tmp_path / "p4", patch_size=4)
    with pytest.raises(ConfigError, match="patch size is 4, the run's is 2"):
        _build(tmp_path, target={"kind": "frozen", "frozen_hf": patch4})
    _, wide = _checkpoint(tmp_path / "wide", hidden_size=32)
    with pytest.raises(ConfigError, match=r"width \(hidden_size\) is 32, the run's is 16"):
        _build(tmp_path, model={"init_hf": wide})
    _, broken = _checkpoint(tmp_path / "broken")
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ConfigError, match="its weights cannot be read"):
        _build(tmp_path, model={"init_hf": broken})
    _, gray = _checkpoint(tmp_path / "gray", num_channels=1)
    with pytest.raises(ConfigError, match=r"shapes do not fit.*tokenizer.proj.weight \(16, 1, 2, 2\)"):
        _build(tmp_path, model={"init_hf": gray})
    weights = load_file(tmp_path / "good" / "model.safetensors")
    weights.pop("encoder.layer.1.output.dense.bias")  # save_pretrained writes the Hub names
    weights["layers.9.extra.weight"] = torch.zeros(1)
    save_file(weights, tmp_path / "good" / "model.safetensors")
    with pytest.raises(ConfigError, match=r"missing \['layers.1.mlp.fc2.bias'\]; unknown \['layers.9.extra.weight'\]"):
        _build(tmp_path, model={"init_hf": good})


def test_hf_import__cli_prints_one_error_line(tmp_path, capsys):
    _, patch4 = _checkpoint(tmp_path / "p4", patch_size=4)
    data = image_folder(tmp_path / "images", 2, 2)
    code, _ = quiet(["pretrain", "image", "--data", str(data), "--out", str(tmp_path / "r"), "--steps", "1",
                     "--set", "model.dim=16", "--set", "options.image_size=16", "--set", "options.patch_size=2",
                     "--set", f"model.init_hf={patch4}"])
    err = capsys.readouterr().err
    assert code == 2 and "error: model.init_hf=" in err and "patch size is 4" in err and "Traceback" not in err
