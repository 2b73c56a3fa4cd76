"""``jepa bench quality tabular``: does pretraining pay off on real tables?

For every table of :mod:`~modalities.tabular.quality_tables` and every seed, pretrain
with the tabular defaults (plus a setting's overrides) on the table without its label,
then score on one held-out split:

- the linear probe of ``jepa probe`` on the pretrained encoder, its random-init twin and
  the raw features;
- the baselines users compare against: gradient-boosted trees on the raw features
  (scikit-learn's HistGradientBoosting), and the same small MLP on the pretrained
  embeddings and on the raw features (T-JEPA's protocol);
- the targets' effective rank at the start and end of pretraining (collapse monitor).

Pretraining sees the same (label-free) rows the probes are fitted and scored on, as in
T-JEPA's protocol. Results go to ``tabular_quality.{json,md,png}`` in the output folder.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np

from .plugin import TabularModality
from .quality_tables import QUICK_TABLES, QualityTable, tables_named

#: Rows each table is capped at (a fixed random draw), for pretraining and probing alike.
MAX_ROWS = 3000

#: Pretraining epochs per table and seed: the plugin's own ``optim.epochs``, so the suite
#: measures what ``jepa pretrain tabular`` gives (``--quick``: fewer).
EPOCHS, QUICK_EPOCHS = TabularModality().default_config()["optim"]["epochs"], 4

#: A fixed step count for every table whatever its size (``run(steps=STEPS)``; 30 epochs are
#: 60 steps on penguins and 690 on a 3000-row table).
STEPS = 400

#: Seeds per table (each one a pretraining seed and a split seed).
SEEDS, QUICK_SEEDS = 2, 1

#: The scores of one table and seed, in report order.
SCORES = ("pretrained", "random_init", "raw", "gbdt", "mlp_pretrained", "mlp_raw")

#: A "win" over random init (accuracy points or R^2) and "matching" GBDT, for the bar.
WIN_MARGIN, MATCH_MARGIN = 0.02, 0.01


def _mlp(task: str, seed: int):
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn.compose import TransformedTargetRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    mlp = make_pipeline(StandardScaler(), cls(hidden_layer_sizes=(256,), alpha=1e-3, max_iter=200,
                                              early_stopping=True, random_state=seed))
    return mlp if task == "classification" else TransformedTargetRegressor(mlp, transformer=StandardScaler())


def _gbdt(task: str, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    return cls(random_state=seed)


def _fit_score(model, x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, task: str) -> float:
    from sklearn.metrics import accuracy_score, r2_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[train], y[train])
        pred = model.predict(x[test])
    return float(accuracy_score(y[test], pred) if task == "classification" else r2_score(y[test], pred))


def _ranks(run_dir: Path) -> tuple[float | None, float | None]:
    """The targets' effective rank at the first and last logged step of a run."""
    ranks = [r["target_rank"] for r in map(json.loads, (run_dir / "metrics.jsonl").read_text().splitlines())
             if r.get("target_rank") is not None]
    return (ranks[0], ranks[-1]) if ranks else (None, None)


def pretrain(csv: Path, label: str, run_dir: Path, epochs: int, seed: int, overrides: list[str],
             steps: int | None = None) -> None:
    """``jepa pretrain tabular`` on ``csv`` without ``label`` (quietly, in this process).

    The run lasts ``optim.steps`` of ``overrides`` if they set it, else ``steps`` if given,
    else ``epochs``.
    """
    from jepa_core.cli import main

    argv = ["pretrain", "tabular", "--data", str(csv), "--ignore-columns", label, "--out", str(run_dir),
            "--device", "cpu", "--force", "--set", "logging.progress=false", "--set", f"optim.seed={seed}"]
    if not any(o.startswith("optim.steps=") for o in overrides):  # a step count wins over epochs
        argv += ["--steps", str(steps)] if steps else ["--epochs", str(epochs)]
    for item in overrides:
        argv += ["--set", item]
    if run_dir.exists():  # an earlier setting's run of this table and seed
        shutil.rmtree(run_dir)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(argv)
    if code != 0:
        raise RuntimeError(f"pretraining {csv} failed: {err.getvalue().strip()[-500:]}")


def pretrain_for_probing(table: QualityTable, seed: int, work: Path, run_dir: Path, epochs: int,
                         max_rows: int, overrides: list[str], steps: int | None = None):
    """Write ``table``'s CSV to ``work`` (once), pretrain on it into ``run_dir`` and read it
    back for probing.

    Returns:
        ``(run, data, train, test, random_init)``: the loaded run, its probe data, the
        split of ``seed`` (stratified for classification) and the run's random-init twin.
    """
    csv = work / f"{table.name}.csv"
    if not csv.exists():
        table.frame(max_rows).to_csv(csv, index=False)
    pretrain(csv, table.label, run_dir, epochs, seed, overrides, steps)
    return load_for_probing(table, seed, csv, run_dir)


def load_for_probing(table: QualityTable, seed: int, csv: Path, run_dir: Path):
    """Read a finished run of ``table`` (pretrained on ``csv``) back for probing.

    Returns:
        As :func:`pretrain_for_probing`.
    """
    from jepa_core.eval import split_indices
    from jepa_core.run import build_model, load_run

    run = load_run(run_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = run.plugin.probe_data(str(csv), table.label, table.task, run.cfg, run.state)
    y = data.targets
    train, test = split_indices(len(y), y if data.task == "classification" else None, seed=seed)
    return run, data, train, test, build_model(run.cfg, run.plugin, run.state).eval()


def linear_probe(x: np.ndarray, data, train: np.ndarray, test: np.ndarray) -> float:
    """The suite's read-out of features ``x``: ``jepa probe``'s linear probe on ``data``'s label,
    fitted on ``train`` and scored (the table's metric) on ``test``."""
    from jepa_core.eval import score_probe

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(score_probe("linear", x, data.targets, data.task, (data.metric,), train, test)[data.metric])


def score_table(table: QualityTable, seed: int, work: Path, epochs: int, max_rows: int,
                overrides: list[str], runs: Path | None = None, steps: int | None = None) -> dict:
    """Pretrain on ``table`` with ``seed`` and score every probe and baseline on one split.

    The table's CSV goes to ``work``, the run to ``runs`` (default: ``work``).
    """
    from jepa_core.eval import encode_dataset

    run_dir = (runs or work) / f"run_{table.name}_s{seed}"
    run, data, train, test, random_init = pretrain_for_probing(table, seed, work, run_dir, epochs,
                                                               max_rows, overrides, steps)
    y = data.targets
    feats = {name: encode_dataset(model.target_encoder, run.plugin, data.dataset, "sample", progress=False)
             for name, model in (("pretrained", run.model), ("random_init", random_init))}
    first, last = _ranks(run_dir)
    return {"table": table.name, "source": table.source, "task": data.task, "metric": data.metric, "seed": seed,
            "rows": int(len(y)), "features": len(run.state["numeric"]) + len(run.state["categorical"]),
            "pretrained": linear_probe(feats["pretrained"], data, train, test),
            "random_init": linear_probe(feats["random_init"], data, train, test),
            "raw": linear_probe(data.raw_features, data, train, test),
            "gbdt": _fit_score(_gbdt(data.task, seed), data.raw_features, y, train, test, data.task),
            "mlp_pretrained": _fit_score(_mlp(data.task, seed), feats["pretrained"], y, train, test, data.task),
            "mlp_raw": _fit_score(_mlp(data.task, seed), data.raw_features, y, train, test, data.task),
            "target_rank_start": first, "target_rank_end": last,
            "embedding_dim": int(feats["pretrained"].shape[1])}


def summarize(rows: list[dict]) -> dict:
    """Means over seeds per table, and the issue's bar over tables.

    Returns:
        ``{"tables": {name: {score: mean, ...}}, "bar": {...}}``: ``bar`` says on how many
        tables pretrained beats random init by :data:`WIN_MARGIN` and comes within
        :data:`MATCH_MARGIN` of GBDT, and the mean gap to each.
    """
    tables: dict[str, dict] = {}
    for name in dict.fromkeys(r["table"] for r in rows):
        mine = [r for r in rows if r["table"] == name]
        mean = {k: float(np.mean([r[k] for r in mine])) for k in SCORES}
        ends = [r["target_rank_end"] for r in mine if r["target_rank_end"] is not None]
        tables[name] = {"source": mine[0]["source"], "task": mine[0]["task"], "metric": mine[0]["metric"],
                        "seeds": len(mine), **mean,
                        "target_rank_end": float(np.mean(ends)) if ends else None}
    sources = dict.fromkeys(t["source"] for t in tables.values())
    return {"tables": tables, "bar": bar_over(list(tables.values())),
            "bar_by_source": {src: bar_over([t for t in tables.values() if t["source"] == src])
                              for src in sources}}


def bar_over(tables: list[dict]) -> dict:
    """The issue's bar over per-table means: wins over random init, matches of GBDT."""
    gaps_ri = [t["pretrained"] - t["random_init"] for t in tables]
    gaps_gb = [t["pretrained"] - t["gbdt"] for t in tables]
    n = len(tables)
    bar = {"tables": n,
           "beats_random_init": sum(g >= WIN_MARGIN for g in gaps_ri),
           "above_random_init": sum(g > 0 for g in gaps_ri),
           "matches_gbdt": sum(g >= -MATCH_MARGIN for g in gaps_gb),
           "mean_gain_over_random_init": float(np.mean(gaps_ri)) if n else None,
           "mean_gap_to_gbdt": float(np.mean(gaps_gb)) if n else None}
    bar["met"] = bool(n and bar["beats_random_init"] >= 0.75 * n and bar["matches_gbdt"] >= 0.5 * n)
    return bar


def run_setting(name: str, overrides: list[str], work: Path, tables: list[QualityTable], seeds: int,
                epochs: int, max_rows: int, log=None, steps: int | None = None) -> dict:
    """Every table x seed with one setting (``overrides`` on the tabular defaults), each run
    ``steps`` long if given, else ``epochs``."""
    rows = []
    runs = work / name
    runs.mkdir(parents=True, exist_ok=True)
    for table in tables:
        for seed in range(seeds):
            rows.append(score_table(table, seed, work, epochs, max_rows, overrides, runs, steps))
            if log:
                r = rows[-1]
                log(f"[{name}] {table.name} seed {seed}: pretrained {r['pretrained']:.3f} random_init "
                    f"{r['random_init']:.3f} raw {r['raw']:.3f} gbdt {r['gbdt']:.3f} "
                    f"rank {r['target_rank_start']:.1f}->{r['target_rank_end']:.1f}")
    return {"overrides": list(overrides), "epochs": epochs, "steps": steps, "seeds": seeds, "rows": rows,
            **summarize(rows)}


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _length(setting: dict) -> str:
    """How long each run of a setting pretrained: ``optim.steps`` wins over the epochs."""
    steps = [o.split("=", 1)[1] for o in setting["overrides"] if o.startswith("optim.steps=")]
    steps = steps[-1] if steps else setting.get("steps")
    return f"{steps} steps" if steps else f"{setting['epochs']} epochs"


def markdown(result: dict) -> str:
    """The results as markdown: one table per setting (means over seeds), the bar under it,
    then ``result["notes"]`` (lines of markdown), if any."""
    lines = ["# Tabular quality suite", "",
             f"`jepa bench quality tabular`: {len(result['tables'])} real tables, at most "
             f"{result['max_rows']} rows each; linear probe on pretrained / random-init / raw features, "
             "HistGradientBoosting on raw features, one MLP on pretrained embeddings and on raw features. "
             "Accuracy for classification, R^2 for regression; held-out 25% split; mean over seeds.", ""]
    for name, s in result["settings"].items():
        over = " ".join(f"`{o}`" for o in s["overrides"]) or "(the defaults)"
        lines += [f"## Setting `{name}`: {over}", "",
                  f"{_length(s)}, {s['seeds']} seed(s).", "",
                  "| table | source | metric | pretrained | random init | raw | GBDT | MLP on emb | MLP on raw "
                  "| pre - rand | rank end |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for t, v in s["tables"].items():
            lines.append(f"| {t} | {v['source']} | {v['metric']} | " + " | ".join(_fmt(v[k]) for k in SCORES)
                         + f" | {v['pretrained'] - v['random_init']:+.3f} | {_fmt(v['target_rank_end'], '.1f')} |")
        b = s["bar"]
        lines += ["", f"Pretrained beats random init by >= {WIN_MARGIN} on {b['beats_random_init']}/{b['tables']} "
                  f"tables (above it on {b['above_random_init']}), mean gain {_fmt(b['mean_gain_over_random_init'], '+.3f')}; "
                  f"within {MATCH_MARGIN} of GBDT on {b['matches_gbdt']}/{b['tables']} (mean gap "
                  f"{_fmt(b['mean_gap_to_gbdt'], '+.3f')}). Bar met: **{'yes' if b['met'] else 'no'}**.", ""]
        for src, b in s.get("bar_by_source", {}).items():
            lines.append(f"- {src} tables: pretrained - random init {_fmt(b['mean_gain_over_random_init'], '+.3f')} "
                         f"on average, above it on {b['above_random_init']}/{b['tables']}, beats it by >= "
                         f"{WIN_MARGIN} on {b['beats_random_init']}/{b['tables']}")
        lines.append("")
    if result.get("notes"):
        lines += ["## Notes", "", *result["notes"], ""]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    """Grouped bars per table of the first setting's scores, and each setting's gain over random init."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = list(result["settings"].items())
    first = settings[0][1]["tables"]
    names = list(first)
    x = np.arange(len(names))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(8, 1.1 * len(names)), 8))
    width = 0.8 / len(SCORES)
    for i, key in enumerate(SCORES):
        top.bar(x + (i - len(SCORES) / 2 + 0.5) * width, [first[n][key] for n in names], width, label=key)
    top.set_xticks(x, names, rotation=30, ha="right")
    top.set_ylim(bottom=max(top.get_ylim()[0], -0.5))  # a failed baseline's R^2 can be far below 0
    top.set_ylabel("accuracy / R^2")
    top.set_title(f"setting {settings[0][0]!r}: probes and baselines (mean over seeds)")
    top.legend(fontsize=7, ncol=3)
    width = 0.8 / len(settings)
    for i, (name, s) in enumerate(settings):
        bottom.bar(x + (i - len(settings) / 2 + 0.5) * width,
                   [s["tables"][n]["pretrained"] - s["tables"][n]["random_init"] if n in s["tables"] else 0
                    for n in names], width, label=name)
    bottom.axhline(0, color="k", lw=0.8)
    bottom.axhline(WIN_MARGIN, color="k", lw=0.8, ls="--")
    bottom.set_xticks(x, names, rotation=30, ha="right")
    bottom.set_ylabel("pretrained - random init")
    bottom.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write(result: dict, out_dir: Path) -> dict[str, str]:
    """``tabular_quality.{json,md,png}`` in ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"tabular_quality.{ext}" for ext in ("json", "md", "png")}
    paths["json"].write_text(json.dumps(result, indent=1) + "\n")
    paths["md"].write_text(markdown(result))
    plot(result, paths["png"])
    return {k: str(v) for k, v in paths.items()}


def run(device: str, out_dir: str | Path, quick: bool = False, *, tables: str | list[str] | None = None,
        seeds: int | None = None, epochs: int | None = None, steps: int | None = None,
        max_rows: int | None = None,
        settings: dict[str, list[str]] | None = None, log=None) -> dict:
    """The suite (``jepa bench quality tabular``): the signature ``jepa bench`` calls.

    Args:
        device: ignored: the suite trains on the CPU, so its numbers are comparable.
        out_dir: where the results and the work files (tables, runs under ``work/``) go.
        quick: :data:`QUICK_TABLES`, one seed, :data:`QUICK_EPOCHS` epochs.
        tables: table names, or a named list of :data:`~.quality_tables.SUITES`
            (``"headroom"``); default: the ``small`` suite.
        seeds, max_rows: override the suite's size.
        epochs: train each run this many epochs (default :data:`EPOCHS`).
        steps: train each run this many steps instead (e.g. :data:`STEPS`); a setting's
            own ``optim.steps`` wins over both.
        settings: ``{name: [KEY=VALUE, ...]}`` config overrides to compare (default: the
            plain defaults, named ``default``).
        log: called with one line per table and seed (default: printed to stderr, the
            progress of a run that takes minutes).

    Returns:
        ``{"suite", "tables", "max_rows", "settings": {name: {"overrides", "epochs",
        "seeds", "rows", "tables", "bar"}}, "files"}``.
    """
    out_dir = Path(out_dir)
    work = out_dir / "work"
    work.mkdir(parents=True, exist_ok=True)
    chosen = tables_named(tables if tables is not None else (list(QUICK_TABLES) if quick else None))
    seeds = seeds or (QUICK_SEEDS if quick else SEEDS)
    epochs = epochs or (QUICK_EPOCHS if quick else EPOCHS)
    max_rows = max_rows or MAX_ROWS
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    result = {"suite": "tabular_quality", "quick": quick, "tables": [t.name for t in chosen],
              "max_rows": max_rows, "settings": {}}
    for name, overrides in (settings or {"default": []}).items():
        result["settings"][name] = run_setting(name, overrides, work, chosen, seeds, epochs, max_rows, log,
                                               steps)
    result["files"] = write(result, out_dir)
    return result
