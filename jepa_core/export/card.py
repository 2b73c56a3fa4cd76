"""The model card (``README.md``) an export writes: config, data, probe results, how to load."""

from __future__ import annotations

import json
from pathlib import Path

from ..run import LoadedRun


def probe_results(run_dir: Path) -> list[str]:
    """Probe results a run directory holds, as Markdown lines (none: ``[]``).

    The newest online-probe scores in ``metrics.jsonl`` (``probe_*`` keys) and any
    ``probe*.json`` file saved beside the run (the JSON ``jepa probe`` prints).
    """
    lines = []
    metrics = run_dir / "metrics.jsonl"
    if metrics.is_file():
        last = None
        for line in metrics.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if any(k.startswith("probe_") and k != "probe_s" for k in record):
                last = record
        if last is not None:
            scores = ", ".join(f"{k[6:]} {v:.4g}" for k, v in last.items()
                               if k.startswith("probe_") and k != "probe_s" and isinstance(v, (int, float)))
            lines.append(f"- online probe at step {last.get('step', '?')}: {scores}")
    for path in sorted(run_dir.glob("probe*.json")):
        try:
            lines.append(f"- `{path.name}`: `{json.dumps(json.loads(path.read_text()))}`")
        except ValueError:
            continue
    return lines


def _usage(fmt: str, folder: str, level: str) -> str:
    if fmt == "ijepa":
        return ("Stock `transformers` loads it (this package need not be installed):\n\n```python\n"
                "from PIL import Image\nfrom transformers import AutoImageProcessor, AutoModel\n\n"
                f"model = AutoModel.from_pretrained({folder!r})\n"
                f"processor = AutoImageProcessor.from_pretrained({folder!r})\n"
                "out = model(**processor(Image.open('photo.png'), return_tensors='pt'))\n"
                "patch_features = out.last_hidden_state     # [B, N, D], what `jepa embed --tokens` writes\n"
                "image_features = patch_features.mean(1)    # [B, D], what `jepa embed` writes\n```\n")
    what = ("out.pooler_output          # what `jepa embed` writes, one vector per sample"
            if level == "sample" else
            "out.last_hidden_state      # what `jepa embed` writes, per token")
    return ("Needs `pip install jepa-core[hf]` (the model is this package's encoder):\n\n```python\n"
            "import jepa_core, transformers\nfrom jepa_core.export import processor\n\n"
            f"model = transformers.AutoModel.from_pretrained({folder!r})\n"
            f"proc = processor.JepaProcessor.from_pretrained({folder!r})\n"
            "out = model(**proc('path/to/data'))   # a file or folder; a DataFrame for tables\n"
            f"{what}\n```\n")


def write_card(run: LoadedRun, out: Path, fmt: str, reason: str | None, folder: str) -> None:
    """Write ``out/README.md`` for the exported ``run``.

    Args:
        fmt: ``ijepa`` or ``jepa``, the format written.
        reason: why an image run did not map to I-JEPA (None when it did, or not an image run).
        folder: the export's folder as the user named it (for the loading code).
    """
    cfg_text = (run.path / "config.yaml").read_text() if run.path else ""
    summary = run.plugin.describe_state(run.state) or ""
    lines = [f"# {run.cfg.modality} JEPA encoder", "",
             f"Pretrained with `jepa-core` (`jepa pretrain {run.cfg.modality}`); exported by "
             f"`jepa export --format hf` from the checkpoint of step {run.step}. Format: "
             + ("transformers' own I-JEPA (`IJepaModel`, model_type `ijepa`)." if fmt == "ijepa" else
                "this package's `JepaModel` (model_type `jepa`)."), ""]
    if reason:
        lines += [f"Not exported as I-JEPA because {reason}.", ""]
    lines += ["## How to load", "", _usage(fmt, folder, run.plugin.embedding_level),
              "## Data", "", f"- data: `{run.cfg.data.path}`"]
    if summary:
        lines.append(f"- fitted state: {summary}")
    lines += ["", "## Probe results", ""]
    lines += probe_results(run.path) if run.path else []
    if lines[-1] == "":  # nothing found
        lines.append("None in the run directory: `jepa probe` prints its result without saving it; "
                     "save one with `jepa probe RUN --label ... > RUN/probe.json` (any `probe*.json` "
                     "there is listed), or pretrain with `--probe-label` (the online probe), then "
                     "export again.")
    lines += ["", "## Run config", "", "```yaml", cfg_text.rstrip(), "```", ""]
    (out / "README.md").write_text("\n".join(lines))
