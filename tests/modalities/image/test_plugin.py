"""The image plugin through the engine: presets, tokenizer, augmentation hook, targets, probes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from jepa_core.config import build_config
from jepa_core.modality import DataError
from jepa_core.run import build_model
from modalities.image import ImageModality, VIT_PRESETS
from modalities.image.presets import VIT_SIZES

from .images import flat_folder, image_folder

SMALL = {"model": {"dim": 32, "depth": 1, "heads": 2, "predictor_dim": 16, "predictor_depth": 1,
                   "predictor_heads": 2},
         "options": {"image_size": 16, "patch_size": 2}}


def _setup(root, *layers):
    plugin = ImageModality()
    cfg = build_config({"modality": "image"}, plugin.default_config(), SMALL, *layers)
    dataset, state = plugin.load(str(root), cfg, None)
    return plugin, cfg, dataset, state


def _step(plugin, cfg, dataset, state, teacher=None):
    model = build_model(cfg, plugin, state) if teacher is None else None
    if teacher is not None:
        from jepa_core.registry import get_registry

        model = get_registry("method").get(cfg.method.name).build(plugin.build_tokenizer(cfg, state), cfg, teacher)
    batch = plugin.collate([dataset[i] for i in range(4)])
    out = model(batch, torch.arange(4), step=0)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert model.encoder.tokenizer.proj.weight.grad.abs().sum() > 0
    return model, out


def test_presets__ijepa_sizes():
    assert VIT_SIZES["tiny"][:3] == (192, 12, 3) and VIT_SIZES["giant"][:3] == (1408, 40, 16)
    assert VIT_PRESETS["vit_huge_14"]["model"]["predictor_dim"] == 384
    assert VIT_PRESETS["vit_huge_14"]["model"]["predictor_depth"] == 12
    assert len(VIT_PRESETS) == 12


def test_preset__sets_model_and_patch_size_and_unknown_is_an_error(tmp_path):
    root = image_folder(tmp_path / "d", size=32)
    plugin = ImageModality()
    cfg = build_config({"modality": "image"}, plugin.default_config(),
                       {"options": {"preset": "vit_small_16", "image_size": 80}})
    _, state = plugin.load(str(root), cfg, None)
    assert (cfg.model.dim, cfg.model.depth, cfg.model.heads) == (384, 12, 6)
    assert state["options"]["patch_size"] == 16
    assert plugin.build_tokenizer(cfg, state).layout.grid == (5, 5)
    cfg = build_config({"modality": "image"}, plugin.default_config(), {"options": {"preset": "vit_tiny_15"}})
    with pytest.raises(DataError, match=r"options.preset='vit_tiny_15' is not a ViT preset; known: \["):
        plugin.load(str(root), cfg, None)


def test_options__patch_must_divide_image_size(tmp_path):
    root = image_folder(tmp_path / "d")
    with pytest.raises(DataError, match=r"options.patch_size=5 must divide options.image_size=16"):
        _setup(root, {"options": {"patch_size": 5}})


def test_step__ema_teacher_free_sigreg_and_frozen_teacher(tmp_path):
    root = image_folder(tmp_path / "d")
    plugin, cfg, dataset, state = _setup(root)
    ema, _ = _step(plugin, cfg, dataset, state)
    assert all(p.grad is None for p in ema.target.encoder.parameters())
    free = _setup(root, {"target": {"kind": "none"}, "objective": {"sigreg": 0.1}})
    _, out = _step(*free)
    assert out.parts.get("sigreg", 0) != 0
    teacher = ema.target_encoder
    frozen_cfg = build_config({"modality": "image"}, plugin.default_config(), SMALL,
                              {"target": {"kind": "frozen", "frozen_run": "unused"}})
    model, _ = _step(plugin, frozen_cfg, dataset, state, teacher=teacher)
    assert model.target.encoder is teacher and all(p.grad is None for p in teacher.parameters())


def test_augment__only_in_training_and_keyed_by_sample_id(tmp_path):
    root = image_folder(tmp_path / "d")
    plugin, cfg, dataset, state = _setup(root)
    model = build_model(cfg, plugin, state)
    seen = []
    tok = model.encoder.tokenizer
    original = tok.augment
    tok.augment = lambda batch, ids, step, seed: seen.append((ids.tolist(), step, seed)) or original(batch, ids, step, seed)
    batch = plugin.collate([dataset[i] for i in range(4)])
    model.train()
    model(batch, torch.arange(4) + 10, step=3)
    assert seen == [([10, 11, 12, 13], 3, cfg.optim.seed)]
    model.eval()
    model(batch, torch.arange(4), step=3)
    model.target_encoder.pooled_features(batch)
    assert len(seen) == 1
    a = original({"image": batch["image"][:2]}, torch.tensor([10, 11]), 3, 0)["image"]
    b = original({"image": batch["image"][[1]]}, torch.tensor([11]), 3, 0)["image"]
    torch.testing.assert_close(a[[1]], b)


def test_probe_data__folder_labels_and_raw_pixels(tmp_path):
    root = image_folder(tmp_path / "d", classes=3, per_class=4)
    plugin, cfg, _, state = _setup(root)
    data = plugin.probe_data(str(root), "folder", None, cfg, state)
    assert data.level == "sample" and data.metric == "accuracy"
    assert data.targets.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert data.raw_features.shape == (12, 3 * 8 * 8)


def test_probe_data__csv_labels(tmp_path):
    root = image_folder(tmp_path / "d", classes=1, per_class=6)
    plugin, cfg, _, state = _setup(root)
    csv = tmp_path / "labels.csv"
    csv.write_text("path,label\n" + "".join(f"c0/{i}.png,{'ab'[i % 2]}\n" for i in range(6)))
    data = plugin.probe_data(str(root), str(csv), None, cfg, state)
    assert data.targets.tolist() == [0, 1, 0, 1, 0, 1]
    csv.write_text("path,label\nc0/0.png,a\nc0/nope.png,b\n")
    with pytest.raises(DataError, match=r"labels.csv, line 3: 'c0/nope.png' is not an image under"):
        plugin.probe_data(str(root), str(csv), None, cfg, state)
    csv.write_text("file,label\nc0/0.png,a\n")
    with pytest.raises(DataError, match=r"needs columns path,label; missing \['path'\]"):
        plugin.probe_data(str(root), str(csv), None, cfg, state)


def test_probe_data__flat_folder_and_single_image_class(tmp_path):
    flat = flat_folder(tmp_path / "flat")
    plugin, cfg, _, state = _setup(flat)
    with pytest.raises(DataError, match=r"--label folder reads the class from the sub-folder.*flat folder"):
        plugin.probe_data(str(flat), "folder", None, cfg, state)
    root = image_folder(tmp_path / "d", classes=2, per_class=3)
    for f in sorted((root / "c1").iterdir())[1:]:
        f.unlink()
    with pytest.raises(DataError, match=r"class 'c1' has only one image"):
        plugin.probe_data(str(root), "folder", None, cfg, state)
    with pytest.raises(DataError, match=r"--label for images is 'folder'"):
        plugin.probe_data(str(root), "species", None, cfg, state)


def test_dataset__lazy_and_uint8(tmp_path):
    root = image_folder(tmp_path / "d")
    _, _, dataset, _ = _setup(root)
    assert not hasattr(dataset, "images")  # only file names are held
    item = dataset[0]["image"]
    assert item.dtype == torch.uint8 and item.shape == (3, 16, 16)
    assert np.isclose(float(item.float().mean()), float(dataset[0]["image"].float().mean()))


def test_preset__model_preset_is_the_same_as_the_option(tmp_path):
    root = image_folder(tmp_path / "d", size=32)
    plugin = ImageModality()
    cfg = build_config({"modality": "image"}, plugin.default_config(),
                       {"model": {"preset": "vit_small_16", "dim": 8}, "options": {"image_size": 80}})
    assert (cfg.model.dim, cfg.predictor.depth) == (384, 6)  # set by the core, over model.dim
    _, state = plugin.load(str(root), cfg, None)
    assert (state["options"]["patch_size"], state["options"]["preset"]) == (16, "vit_small_16")
    cfg = build_config({"modality": "image"}, plugin.default_config(),
                       {"model": {"preset": "vit_small_16"}, "options": {"preset": "vit_base_16"}})
    with pytest.raises(DataError, match="options.preset='vit_base_16' and model.preset='vit_small_16' disagree"):
        plugin.load(str(root), cfg, None)


def test_preset__too_small_a_grid_says_what_to_change(tmp_path):
    root = image_folder(tmp_path / "d", size=32)
    plugin = ImageModality()
    cfg = build_config({"modality": "image"}, plugin.default_config(), {"model": {"preset": "vit_tiny_16"}})
    with pytest.raises(DataError, match=r"options.image_size=32 cut into 16 px patches \(preset vit_tiny_16\) "
                                        r"is a 2 x 2 token grid.*at least 80 \(a 5 x 5 grid\) or smaller patches"):
        plugin.load(str(root), cfg, None)
    cfg = build_config({"modality": "image"}, plugin.default_config(), {"options": {"patch_size": 8}})
    with pytest.raises(DataError, match=r"4 x 4 token grid.*smaller patches \(options.patch_size\)"):
        plugin.load(str(root), cfg, None)


def test_encoder__another_image_size_resamples_the_trained_positions(tmp_path):
    plugin, cfg, dataset, state = _setup(image_folder(tmp_path / "d"))
    model = build_model(cfg, plugin, state).eval()
    enc = model.target_encoder
    trained = enc.pos.reshape(8, 8, -1).permute(2, 0, 1)[None]  # the 16 px run's 8 x 8 table
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    tokens = enc.tokenize({"image": images})
    assert tokens.layout.grid == (16, 16)
    reference = torch.nn.functional.interpolate(trained, size=(16, 16), mode="bicubic", align_corners=False)
    torch.testing.assert_close(enc.positions(tokens), reference[0].permute(1, 2, 0).reshape(256, -1),
                               rtol=0, atol=1e-6)
    same = enc.tokenize({"image": images[:, :, :16, :16]})
    assert same.layout == enc.layout and torch.equal(enc.positions(same), enc.pos)
    with torch.no_grad():
        assert enc.pooled_features({"image": images}).shape == (2, 32)
    with pytest.raises(ValueError, match="multiples of the 2 px patch"):
        enc.tokenize({"image": images[:, :, :15, :15]})
    model.train()
    with pytest.raises(ValueError, match=r"training batch on the token grid \(16, 16\), the model's is \(8, 8\)"):
        model({"image": images}, torch.arange(2), step=0)


def test_with_embed_options__image_size_only(tmp_path):
    from jepa_core.config import ConfigError

    plugin, cfg, dataset, state = _setup(image_folder(tmp_path / "d"))
    moved = plugin.with_embed_options(state, ["data.image_size=32"])
    assert moved["options"]["image_size"] == 32 and state["options"]["image_size"] == 16
    assert plugin.load(str(tmp_path / "d"), cfg, moved)[0][0]["image"].shape == (3, 32, 32)
    with pytest.raises(ConfigError, match=r"--set options.patch_size: .* options.image_size, "):
        plugin.with_embed_options(state, ["options.patch_size=4"])
    with pytest.raises(ConfigError, match=r"--set model.dim"):
        plugin.with_embed_options(state, ["model.dim=8"])
    with pytest.raises(DataError, match=r"options.patch_size=2 must divide options.image_size=15"):
        plugin.load(str(tmp_path / "d"), cfg, plugin.with_embed_options(state, ["data.image_size=15"]))


def test_demo__digits_in_ten_class_folders_probed_by_folder(tmp_path):
    from pathlib import Path

    plugin = ImageModality()
    root = Path(plugin.demo_data())
    assert sorted(p.name for p in root.iterdir()) == [str(d) for d in range(10)]
    assert sum(1 for _ in root.rglob("*.png")) == 1797
    assert plugin.demo_label(str(root)) == "folder"
    assert plugin.demo_label(str(image_folder(tmp_path / "d"))) is None and plugin.demo_label(None) is None
