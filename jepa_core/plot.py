"""``jepa plot``: one PNG of a run's training curves from its ``metrics.jsonl``.

Four panels: the loss and its parts; the learning rate and the EMA momentum; the
collapse monitors (``target_std``, ``target_rank``); the online probe's score against the
step, with its step-0 (random-init) score as a reference line, when the run has one.
"""

from __future__ import annotations

import json
from pathlib import Path

from .run import RunDir, RunError

#: Figure size in inches and resolution: the PNG is 1200 x 800 pixels.
FIGSIZE = (12.0, 8.0)
DPI = 100

#: Logged keys that are not curves of the loss panel.
_NOT_LOSS_PARTS = {"step", "epoch", "loss", "lr", "weight_decay", "momentum", "samples_per_s",
                   "target_std", "target_rank"}


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a ``metrics.jsonl`` (lines that are not JSON objects are skipped).

    Raises:
        RunError: the file is missing or holds no record.
    """
    path = Path(path)
    if not path.is_file():
        raise RunError(f"{path} is missing: the run has logged no metrics yet (`jepa pretrain` "
                       "writes one line every logging.log_every steps)")
    records = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
        if isinstance(record, dict) and "step" in record:
            records.append(record)
    if not records:
        raise RunError(f"{path} holds no metrics records yet")
    return records


def series(records: list[dict], key: str) -> tuple[list[int], list[float]]:
    """``(steps, values)`` of ``key``, sorted by step; a step logged twice (a resumed run
    going over steps again) keeps its last value.

    Examples:
        >>> series([{"step": 2, "a": 1.0}, {"step": 1, "a": 3.0}, {"step": 2, "a": 5.0}], "a")
        ([1, 2], [3.0, 5.0])
    """
    by_step = {int(r["step"]): float(r[key]) for r in records if isinstance(r.get(key), (int, float))}
    steps = sorted(by_step)
    return steps, [by_step[s] for s in steps]


def _draw(ax, records: list[dict], keys: list[str], ylabel: str) -> bool:
    drawn = False
    for key in keys:
        steps, values = series(records, key)
        if steps:
            ax.plot(steps, values, label=key, marker="o" if len(steps) < 30 else None, markersize=3)
            drawn = True
    if drawn:
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    return drawn


def _twin(ax, records: list[dict], key: str, color: str = "tab:red") -> None:
    steps, values = series(records, key)
    if steps:
        other = ax.twinx()
        other.plot(steps, values, color=color, label=key)
        other.set_ylabel(key, color=color)
        other.tick_params(axis="y", colors=color)


def plot_run(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Draw the run's curves into ``out`` (default ``RUN/metrics.png``) and return the path.

    Raises:
        RunError: not a run directory, or a run without metrics.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = RunDir(run_dir)
    if not run.info.is_file():
        raise RunError(f"{run.path} is not a run directory (expected run.json, written by `jepa pretrain`)")
    records = read_metrics(run.metrics)
    out = Path(out) if out is not None else run.path / "metrics.png"
    if out.suffix.lower() != ".png":
        raise ValueError(f"--out must end in .png, got {out.name!r}")
    keys = sorted({k for r in records for k in r})
    parts = [k for k in keys if k not in _NOT_LOSS_PARTS and not k.startswith("probe_")]
    probes = [k for k in keys if k.startswith("probe_") and k != "probe_s"]

    fig, axes = plt.subplots(2, 2, figsize=FIGSIZE, dpi=DPI)
    (loss_ax, lr_ax), (collapse_ax, probe_ax) = axes
    loss_ax.set_title("loss")
    _draw(loss_ax, records, ["loss", *parts], "loss")
    lr_ax.set_title("learning rate and EMA momentum")
    _draw(lr_ax, records, ["lr"], "lr")
    _twin(lr_ax, records, "momentum")
    collapse_ax.set_title("collapse monitors")
    _draw(collapse_ax, records, ["target_std"], "target_std")
    _twin(collapse_ax, records, "target_rank")
    probe_ax.set_title("online probe")
    if _draw(probe_ax, records, probes, "score"):
        for key in probes:
            steps, values = series(records, key)
            if steps and steps[0] == 0:
                probe_ax.axhline(values[0], linestyle="--", color="gray", linewidth=1)
        probe_ax.text(0.01, 0.01, "dashed: random init (step 0)", transform=probe_ax.transAxes, fontsize=8,
                      color="gray")
    else:
        probe_ax.text(0.5, 0.5, "no online probe\n(pretrain with --probe-label)", ha="center", va="center",
                      transform=probe_ax.transAxes, color="gray")
        probe_ax.set_xticks([])
        probe_ax.set_yticks([])
    for ax in axes.flat:
        ax.set_xlabel("step")
    fig.suptitle(f"{run.path.name} ({run.modality()})")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out
