"""The tabular (T-JEPA) modality plugin: CSV/Parquet tables, one token per feature."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from jepa_core.config import Config
from jepa_core.modality import DataError, ModalityPlugin, ProbeData

from .baseline import raw_features
from .dataset import TabularDataset
from .errors import warn, where
from .labels import encode_labels
from .leakage import leaking_features
from .options import PLE_EMBEDDINGS, TabularOptions
from .reader import file_kind, read_table
from .schema import check_state, feature_names, fit_schema
from .tokenizer import TabularTokenizer
from .transform import FIRST_VALUE_INDEX, apply_schema, hide_feature

METRICS = {"classification": "accuracy", "regression": "r2"}


class TabularModality(ModalityPlugin):
    """Tables as token sets: one token per column, T-JEPA feature-subset masking.

    Reads CSV or Parquet, infers a schema (numeric vs categorical) on the pretraining file
    and saves it as the run's ``state``; embedding and probing apply that same schema.
    Items are ``{"num": [Fn] float32, "num_missing": [Fn] bool, "cat": [Fc] int64}``.

    Bad input is a :class:`~jepa_core.modality.DataError` naming the file (and row/line,
    column): a missing, empty, header-only, ragged, non-UTF-8 or fake-Parquet file; fewer
    than two usable feature columns; an ignored, overridden or label column that does not
    exist; text in a numeric column; an unsupported column type; a one-class label.
    Repaired with a :class:`~modalities.tabular.DataWarning` instead: an all-missing column
    and a constant column without gaps are dropped (when fitting); infinite numerics
    become missing values; probe rows with a missing label are dropped; a probe label that
    is also a feature is hidden. ``options.ignore_columns`` acts when the schema is fitted, and
    so does the online probe's label column (``--probe-label COLUMN``), which pretraining
    never sees either; a saved schema fixes the features afterwards.

    From T-JEPA (Thimonier et al., "T-JEPA: Augmentation-Free Self-Supervised Learning for
    Tabular Data", ICLR 2025).

    Examples:
        >>> plugin = TabularModality()
        >>> plugin.default_config()["mask"]["name"]
        'random_subset'
    """

    name = "tabular"
    options_class = TabularOptions
    embedding_level = "sample"
    #: the label of the demo table (pretrain the demo with ``--ignore-columns species``)
    DEMO_LABEL = "species"

    def default_config(self) -> dict:
        """T-JEPA settings scaled to a 2-core CPU: a small encoder, two register tokens.

        Targets are standardized per feature over the batch (each column's shared constant
        would otherwise dominate them and make the task trivial), the teacher follows the
        student quickly enough to matter in a short run (EMA 0.98 -> 1.0), and a sample's
        embedding is its per-feature tokens side by side, as T-JEPA flattens them.

        VICReg's variance and covariance terms (weights 1 and 0.04) on the context
        embeddings keep the targets from collapsing onto a few directions, which on some
        real tables (a state x year panel) cost the probe more than pretraining gained.

        Three choices give the features what gradient-boosted trees find in such tables:
        each numeric value's token is its linear embedding plus a periodic one
        (``linear_periodic``, frequencies of spread 0.3), so one token can tell apart codes
        stored as numbers and thresholds; the training method is ``pooled_target`` with
        ``target: masked`` and ``temperature: 0.1``, beside the masked loss an InfoNCE term
        in which the mean of a row's visible columns must pick the mean of its own hidden
        columns among the batch's rows (a target that is a function of the whole row); and
        the encoder and predictor are 128 wide. ``--set options.numeric_embedding=linear
        --set method.name=masked --set model.dim=64 --set predictor.dim=64`` gives the
        previous defaults. Every setting tried, and what these cost on nearly additive
        tables, is in ``benchmarks/results/tabular_quality_study.md``.
        """
        return {
            "data": {"batch_size": 128},
            "options": {"numeric_embedding": "linear_periodic", "periodic_sigma": 0.3},
            "method": {"name": "pooled_target", "target": "masked", "temperature": 0.1},
            "mask": {"name": "random_subset", "context_ratio": 0.5, "target_ratio": 0.3},
            "model": {"dim": 128, "depth": 4, "heads": 4, "mlp_ratio": 2.0,
                      "num_registers": 2, "dropout": 0.0},
            "predictor": {"name": "masked", "dim": 128, "depth": 2, "heads": 4},
            "pooling": {"name": "concat"},
            "target": {"momentum": [0.98, 1.0]},
            "objective": {"normalize_targets": False, "standardize_targets": True,
                          "vicreg_variance": 1.0, "vicreg_covariance": 0.04},
            "optim": {"epochs": 30, "lr": 5e-4, "warmup": 0.1},
        }

    def demo_data(self) -> str:
        """palmerpenguins' bundled ``penguins.csv`` (344 penguins, 8 columns)."""
        try:
            path = resources.files("palmerpenguins") / "data" / "penguins.csv"
        except ModuleNotFoundError:
            raise DataError("the tabular demo dataset needs the 'palmerpenguins' package: "
                            "pip install 'jepa-core[tabular]' (or pass --data)") from None
        if not path.is_file():
            raise DataError(f"palmerpenguins is installed but has no {path}; pass --data")
        return str(path)

    def demo_label(self, path: str | None) -> str | None:
        """``species`` when ``path`` is the penguins demo table."""
        try:
            demo = Path(self.demo_data()).resolve()
        except DataError:
            return None
        return self.DEMO_LABEL if path and Path(path).resolve() == demo else None

    def describe_state(self, state: dict) -> str:
        """The inferred schema in two lines: numeric and categorical columns, ignored, dropped.

        Examples:
            >>> st = {"numeric": [{"name": "age"}], "categorical": [{"name": "city", "vocab": ["a", "b"]}],
            ...       "ignored": ["y"], "dropped": []}
            >>> print(TabularModality().describe_state(st))
            schema: 1 numeric [age]; 1 categorical [city (2 values)]; ignored [y]
            token order (embedding blocks): age, city
        """
        def names(items: list[str], limit: int = 12) -> str:
            more = f", ... (+{len(items) - limit})" if len(items) > limit else ""
            return "[" + ", ".join(items[:limit]) + more + "]"

        parts = [f"{len(state['numeric'])} numeric {names([c['name'] for c in state['numeric']])}",
                 f"{len(state['categorical'])} categorical "
                 + names([f"{c['name']} ({len(c['vocab'])} values)" for c in state["categorical"]])]
        if state.get("ignored"):
            parts.append(f"ignored {names(list(state['ignored']))}")
        if state.get("dropped"):
            parts.append(f"dropped {names([d['name'] + ': ' + d['reason'] for d in state['dropped']])}")
        order = feature_names(state)
        return ("schema: " + "; ".join(parts) + "\ntoken order (embedding blocks): "
                + ", ".join(order[:24]) + (", ..." if len(order) > 24 else ""))

    def embedding_columns(self, state: dict, cfg: Config, width: int) -> list[str] | None:
        """``column:k`` for ``pooling.name: concat`` (one block of ``dim`` per feature)."""
        names = feature_names(state)
        if cfg.pooling.name != "concat" or width != len(names) * cfg.model.dim:
            return None
        return [f"{name}:{k}" for name in names for k in range(cfg.model.dim)]

    def load(self, path: str, cfg: Config, state: dict | None) -> tuple[TabularDataset, dict]:
        """Read ``path``; fit the schema when ``state`` is None, then encode every row."""
        options = self.options(cfg) if state is not None else self.checked_options(cfg, None)
        df = read_table(path, options)
        is_csv = file_kind(Path(path)) == "csv"
        fitted_here = state is None
        if state is None:
            ignored = list(options.ignore_columns)
            probe_label = cfg.logging.probe_label  # the online probe's column never enters pretraining
            if probe_label in df.columns and probe_label not in ignored:
                ignored.append(probe_label)
            state = fit_schema(df, str(path), options, ignored, is_csv)
        table = apply_schema(df, state, str(path), is_csv, warn_unknown=not fitted_here)
        return TabularDataset(table, feature_names(state)), state

    def build_tokenizer(self, cfg: Config, state: dict) -> TabularTokenizer:
        """A per-feature tokenizer sized by the schema in ``state``."""
        check_state(state)
        cardinalities = [len(c["vocab"]) + FIRST_VALUE_INDEX for c in state["categorical"]]
        options = self.checked_options(cfg, state)  # the schema state holds no options: the config's
        edges = None
        if options.numeric_embedding in PLE_EMBEDDINGS:
            edges = _ple_edges(state, options)
        return TabularTokenizer(len(state["numeric"]), cardinalities, cfg.model.dim,
                                options.numeric_embedding, options.periodic_frequencies,
                                options.periodic_sigma, edges, options.ple_bins)

    def probe_data(self, path: str, label: str, task: str | None, cfg: Config,
                   state: dict) -> ProbeData:
        """Rows of ``path`` encoded with ``state``, the ``label`` column as targets.

        ``label`` is a column of ``path`` or a one-column file with one row per row of
        ``path``. Rows with a missing label are dropped (with a warning). A label that is
        also a feature is hidden from the model (always missing) and from the raw baseline.
        """
        check_state(state)
        options = self.options(cfg)
        df = read_table(path, options)
        is_csv = file_kind(Path(path)) == "csv"
        labels, label_name = self._label_column(df, str(path), label, options)
        missing = labels.isna()
        if missing.all():
            raise DataError(f"{where(path, column=label_name)}: every label is missing; "
                            f"expected labelled rows")
        if missing.any():
            warn(f"{where(path, column=label_name)}: {int(missing.sum())} row(s) with a "
                 f"missing label dropped")
            df, labels = df[~missing.to_numpy()], labels[~missing]
        encoded = encode_labels(labels, task, str(path), options.max_categorical_cardinality,
                                is_csv)
        table = apply_schema(df, state, str(path), is_csv, warn_unknown=True)
        hidden = None
        if label_name in feature_names(state):
            warn(f"{where(path, column=label_name)}: the label is also a pretraining feature; "
                 f"it is hidden from the model and the baseline for this probe (pretrain "
                 f"with --ignore-columns {label_name} to avoid this)")
            hide_feature(table, state, label_name)
            hidden = label_name
        for column, how in leaking_features(table, state, encoded.targets, encoded.task, hidden):
            warn(f"{where(path, column=column)}: this feature gives the label {label_name!r} away "
                 f"({how}); if it is derived from the label, every probe (raw included) reads "
                 f"the label off it: "
                 f"pretrain again with --ignore-columns {','.join(state.get('ignored', []) + [column])}")
        return ProbeData(dataset=TabularDataset(table, feature_names(state)),
                         targets=encoded.targets,
                         raw_features=raw_features(table, state, exclude=hidden),
                         task=encoded.task, metric=METRICS[encoded.task], level="sample")

    @staticmethod
    def _label_column(df: pd.DataFrame, path: str, label: str,
                      options: TabularOptions) -> tuple[pd.Series, str]:
        if label in df.columns:
            return df[label], label
        if Path(label).is_file():
            ldf = read_table(label, options)
            if ldf.shape[1] != 1 or len(ldf) != len(df):
                raise DataError(f"{label}: a label file needs one column and one row per row "
                                f"of {path} ({len(df)}); found {ldf.shape[1]} column(s), "
                                f"{len(ldf)} row(s)")
            series = ldf.iloc[:, 0]
            series.index = df.index
            return series, str(ldf.columns[0])
        raise DataError(f"{path}: label column {label!r} does not exist (nor is it a file); "
                        f"its columns are {list(df.columns)}")


def _ple_edges(state: dict, options: TabularOptions) -> list[list[float]]:
    """The schema's PLE bin edges, or a ``DataError`` when it was fitted without them."""
    if state.get("ple_bins") != options.ple_bins or any("ple_edges" not in c for c in state["numeric"]):
        fitted = (f"with options.ple_bins={state['ple_bins']}" if "ple_bins" in state
                  else "without PLE bin edges")
        raise DataError(f"options.numeric_embedding={options.numeric_embedding!r} with "
                        f"options.ple_bins={options.ple_bins} needs the schema's bin edges, but the "
                        f"saved schema was fitted {fitted}; pretrain again with these options")
    return [c["ple_edges"] for c in state["numeric"]]
