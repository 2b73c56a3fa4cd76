"""Tiny runs for the export tests, trained for a few steps in-process."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from jepa_core.cli import main as jepa
from tests.modalities.image.images import image_folder

#: A tiny ViT: 16 px images in 2 px patches (an 8 x 8 grid), 16 wide, 2 deep.
TINY_IMAGE = ["--set", "model.dim=16", "--set", "model.depth=2", "--set", "model.heads=2",
              "--set", "model.predictor_dim=16", "--set", "model.predictor_depth=1",
              "--set", "model.predictor_heads=2", "--set", "options.image_size=16",
              "--set", "options.patch_size=2", "--set", "logging.progress=false",
              "--set", "data.num_workers=0"]


def quiet(argv: list[str]) -> tuple[int, str]:
    """Run ``jepa ARGV`` in-process; returns (exit status, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = jepa(argv)
    return code, out.getvalue()


def image_run(tmp: Path, *extra: str, steps: int = 2) -> tuple[Path, Path]:
    """Pretrain a tiny image run for ``steps`` steps; returns (run dir, data folder)."""
    data = tmp / "images" if (tmp / "images").exists() else image_folder(tmp / "images", classes=2, per_class=4)
    run = tmp / f"run{len(list(tmp.glob('run*')))}"
    code, _ = quiet(["pretrain", "image", "--data", str(data), "--out", str(run), "--steps", str(steps),
                     "--batch-size", "4", *TINY_IMAGE, *extra])
    assert code == 0
    return run, data
