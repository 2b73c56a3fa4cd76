"""Plain-text summary tables of the benchmark results, printed by ``jepa bench``."""

from __future__ import annotations


def _table(title: str, header: list[str], rows: list[list[str]]) -> list[str]:
    """Right-aligned columns under ``title``.

    Examples:
        >>> print("\\n".join(_table("t", ["a", "bb"], [["1", "22"]])))
        t
         a  bb
         1  22
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda row: "  ".join(str(v).rjust(w) for v, w in zip(row, widths)).rstrip()
    return [title, " " + fmt(header), *(" " + fmt(r) for r in rows)]


def _num(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _masking(result: dict) -> list[str]:
    rows = [["x".join(map(str, r["grid"])), r["batch"], _num(r["op_us"], ".0f"),
             _num(r["reference_us"], ".0f"), _num(r["collator_us"], ".0f"),
             _num(r["speedup_vs_reference"], ".1f") + "x", _num(r["speedup_vs_collator"], ".1f") + "x"]
            for r in result["rows"]]
    lines = _table(f"masking on {result['device']} ({result['backend']}), microseconds per batch",
                   ["grid", "batch", "op", "reference", "I-JEPA collator", "vs ref", "vs collator"], rows)
    if "cuda_equals_cpu" in result:
        lines.append(f" CUDA masks equal to CPU: {result['cuda_equals_cpu']}")
    return lines


def _attention(result: dict) -> list[str]:
    rows = [[r["method"], r["n"], r["frac"], _num(r.get("fwd_s") and r["fwd_s"] * 1e3, ".3f"),
             _num(r.get("fwd_bwd_s") and r["fwd_bwd_s"] * 1e3, ".3f"),
             _num(r.get("fwd_bwd_tflops"), ".2f"), r.get("error", "")]
            for r in result["rows"]]
    return _table(f"masked attention on {result['device']} ({result['backend']})",
                  ["method", "tokens", "valid", "fwd ms", "fwd+bwd ms", "TFLOP/s", ""], rows)


def _train(result: dict) -> list[str]:
    rows = [[mode, _num(r.get("rows_per_s"), ".0f"), _num(r.get("ms_per_step"), ".1f"),
             r.get("error", "")[:60]] for mode, r in result["runs"].items()]
    return _table(f"tabular pretraining steps on {result['device']}, batch {result['batch_size']}",
                  ["mode", "rows/s", "ms/step", ""], rows)


def _quality(result: dict) -> list[str]:
    lines = []
    for name, setting in result["settings"].items():
        rows = [[table, t["metric"], *(_num(t[k], ".3f") for k in
                                       ("pretrained", "random_init", "raw", "gbdt", "mlp_pretrained", "mlp_raw")),
                 _num(t.get("target_rank_end"), ".1f")]
                for table, t in setting["tables"].items()]
        lines += _table(f"quality suite, setting {name!r} (mean over {setting['seeds']} seed(s))",
                        ["table", "metric", "pretrained", "random init", "raw", "GBDT", "MLP emb", "MLP raw",
                         "rank end"], rows)
        bar = setting["bar"]
        lines.append(f" pretrained beats random init on {bar['beats_random_init']}/{bar['tables']} tables, "
                     f"matches GBDT on {bar['matches_gbdt']}/{bar['tables']}; bar met: {bar['met']}")
    return lines


SUMMARIES = {"masking": _masking, "attention": _attention, "train": _train, "quality": _quality}


def summary_lines(name: str, result: dict) -> list[str]:
    """The summary table of benchmark ``name``'s ``result`` (what its ``run`` returned)."""
    return SUMMARIES[name](result) if name in SUMMARIES else [f"{name}: done"]
