"""An image run exported as transformers' own I-JEPA, loaded by stock transformers."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from jepa_core.run import load_run

from .runs import image_run, quiet

#: Runs in a fresh interpreter where importing jepa_core (or the plugins) fails: stock
#: transformers alone must load the export and compute the patch features.
STOCK = """
import sys, json, numpy as np, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('jepa_core', 'modalities'):
            raise ImportError('jepa_core is hidden in this test')
sys.meta_path.insert(0, Block())
import torch
from transformers import AutoImageProcessor, AutoModel
folder, images, out = sys.argv[1:4]
model = AutoModel.from_pretrained(folder).eval()
proc = AutoImageProcessor.from_pretrained(folder)
pixels = proc(list(np.load(images)), do_resize=False, do_center_crop=False, return_tensors='pt')
with torch.no_grad():
    feats = model(**pixels).last_hidden_state
np.save(out, feats.numpy())
print(json.dumps({'class': type(model).__name__, 'model_type': model.config.model_type,
                  'jepa_core_loaded': any(m.split('.')[0] == 'jepa_core' for m in sys.modules)}))
"""


def _images(run_dir, data) -> np.ndarray:
    """The uint8 ``[S, H, W, 3]`` images the run's reader gives, in embed order."""
    run = load_run(run_dir)
    dataset, _ = run.plugin.load(str(data), run.cfg, run.state)
    return np.stack([dataset[i]["image"].permute(1, 2, 0).numpy() for i in range(len(dataset))])


def test_export__image_run_loads_in_stock_transformers_with_the_same_patch_features(tmp_path):
    run, data = image_run(tmp_path)
    assert quiet(["embed", str(run), "--tokens", "--out", str(tmp_path / "tok.npy")])[0] == 0
    code, out = quiet(["export", str(run), "--format", "hf", "--out", str(tmp_path / "hub")])
    assert code == 0 and json.loads(out)["format"] == "ijepa"
    config = json.loads((tmp_path / "hub" / "config.json").read_text())
    assert config["model_type"] == "ijepa" and config["patch_size"] == 2 and config["hidden_size"] == 16
    card = (tmp_path / "hub" / "README.md").read_text()
    assert f"AutoModel.from_pretrained({str(tmp_path / 'hub')!r})" in card and "model_type `ijepa`" in card
    np.save(tmp_path / "images.npy", _images(run, data))

    proc = subprocess.run([sys.executable, "-c", STOCK, str(tmp_path / "hub"), str(tmp_path / "images.npy"),
                           str(tmp_path / "hf.npy")], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info == {"class": "IJepaModel", "model_type": "ijepa", "jepa_core_loaded": False}
    ours, theirs = np.load(tmp_path / "tok.npy"), np.load(tmp_path / "hf.npy")
    assert ours.shape == theirs.shape == (8, 64, 16)
    assert float(np.abs(ours - theirs).max()) <= 1e-4


def test_image_processor_config__resizes_crops_and_normalizes_like_the_reader():
    from PIL import Image
    from transformers import BitImageProcessor

    from jepa_core.export.writer import image_processor_config
    from modalities.image.options import ImageOptions
    from modalities.image.readers import fit_square

    opts = ImageOptions(image_size=16, patch_size=2)
    config = image_processor_config({"image_size": 16, "mean": opts.mean, "std": opts.std})
    assert config.pop("image_processor_type") == "BitImageProcessor"
    proc = BitImageProcessor(**config)
    rng = np.random.default_rng(0)
    for shape in [(16, 16, 3), (20, 24, 3), (64, 48, 3)]:  # long sides that scale to whole pixels
        img = rng.integers(0, 256, shape).astype(np.uint8)
        ours = (fit_square(img, 16) / 255.0 - np.array(opts.mean)) / np.array(opts.std)
        theirs = proc(Image.fromarray(img), return_tensors="pt")["pixel_values"][0].permute(1, 2, 0).numpy()
        assert np.abs(ours - theirs).max() <= 1e-5
