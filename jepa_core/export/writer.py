"""Write a run as a Hugging Face ``transformers`` model folder.

An image run whose encoder maps exactly (see :func:`.ijepa.why_not_ijepa`) becomes
transformers' own ``IJepaModel`` (``config.json`` with model_type ``ijepa``,
``model.safetensors``, ``preprocessor_config.json``): stock transformers loads it, this
package need not be installed. Every other run becomes this package's ``JepaModel``
(model_type ``jepa``, see :mod:`.hf_model`) with its fitted ``modality_state.json`` and
a ``processor_config.json`` for :class:`~jepa_core.export.processor.JepaProcessor`.
Both get a model card (``README.md``, :mod:`.card`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..run import LoadedRun, RunError, load_run
from . import require_transformers
from .card import write_card
from .ijepa import encoder_to_ijepa, ijepa_config, patch_conv, why_not_ijepa

#: Every file an export may write: ``--force`` replaces them (and only them).
EXPORT_FILES = ("config.json", "model.safetensors", "preprocessor_config.json", "processor_config.json",
                "modality_state.json", "README.md", "generation_config.json")


def check_out(out: Path, force: bool) -> None:
    """Refuse an ``--out`` that is a file, or a non-empty folder without ``force``.

    Raises:
        RunError: naming the folder and what is in it.
    """
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out} is a file; give the export a folder of its own")
    if out.is_dir() and any(out.iterdir()) and not force:
        names = sorted(p.name for p in out.iterdir())
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        raise RunError(f"--out {out} already exists and is not empty (it holds {shown}); choose another "
                       "folder, or pass --force to replace the exported files in it")


def export_run(run_dir: str | Path, out: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Export the run at ``run_dir`` into the folder ``out``.

    The model is written to a temporary folder beside ``out`` first and moved into place
    file by file, so a failed export leaves ``out`` as it was.

    Returns:
        ``{"out", "format": "ijepa" | "jepa" (the model_type), "modality", "reason"}`` (``reason``: why an
        image run did not map to I-JEPA, else None).

    Raises:
        RunError: not a run, no checkpoint, or ``out`` exists (without ``force``).
    """
    out = Path(out)
    require_transformers("jepa export --format hf")
    check_out(out, force)
    run = load_run(run_dir)
    encoder = run.model.target_encoder
    reason = why_not_ijepa(encoder)
    fmt = "ijepa" if reason is None else "jepa"
    if patch_conv(encoder) is None:  # not an image run: I-JEPA was never a candidate
        reason = None
    out.parent.mkdir(parents=True, exist_ok=True)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
        tmp = Path(tmp)
        if fmt == "ijepa":
            _write_ijepa(run, tmp)
        else:
            from .hf_model import save_run_model

            save_run_model(run, tmp)
        write_card(run, tmp, fmt, reason, str(out))
        out.mkdir(exist_ok=True)
        for name in EXPORT_FILES:
            (out / name).unlink(missing_ok=True)
        for path in tmp.iterdir():
            shutil.move(str(path), out / path.name)
    hf_logging.enable_progress_bar()
    return {"out": str(out), "format": fmt, "modality": run.cfg.modality, "reason": reason}


def _write_ijepa(run: LoadedRun, out: Path) -> None:
    """``config.json`` + ``model.safetensors`` (``IJepaModel``) + the image processor's config."""
    from transformers import IJepaConfig, IJepaModel

    encoder = run.model.target_encoder
    opts = run.state["options"]
    config = IJepaConfig(**ijepa_config(encoder, opts["image_size"], run.cfg.model.dropout))
    model = IJepaModel(config)
    result = model.load_state_dict(encoder_to_ijepa(encoder), strict=False)
    if result.missing_keys or result.unexpected_keys:  # the mapping and transformers disagree
        raise RunError(f"the I-JEPA mapping of {run.path} does not fit transformers' IJepaModel: "
                       f"missing {sorted(result.missing_keys)}, extra {sorted(result.unexpected_keys)}")
    model.save_pretrained(out)
    (out / "preprocessor_config.json").write_text(json.dumps(image_processor_config(opts), indent=1))


def image_processor_config(opts: dict) -> dict[str, Any]:
    """A ``BitImageProcessor`` doing what the image reader and tokenizer do before the convolution.

    Shorter side to ``image_size`` (bicubic), a centre crop, pixel values scaled to
    ``[0, 1]`` and normalized by the run's ``options.mean``/``std``.
    """
    size = opts["image_size"]
    return {"image_processor_type": "BitImageProcessor", "do_convert_rgb": True,
            "do_resize": True, "size": {"shortest_edge": size}, "resample": 3,
            "do_center_crop": True, "crop_size": {"height": size, "width": size},
            "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
            "image_mean": list(opts["mean"]), "image_std": list(opts["std"])}
