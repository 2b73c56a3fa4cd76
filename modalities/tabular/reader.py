"""Read a CSV or Parquet file into a DataFrame, with one clear error per malformed file."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from jepa_core.modality import DataError

from .options import TabularOptions

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
PARQUET_MAGIC = b"PAR1"


def file_kind(path: Path) -> str:
    """``csv`` or ``parquet``, by extension, else by the Parquet magic bytes.

    Examples:
        >>> file_kind(Path("penguins.csv"))
        'csv'
    """
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    with path.open("rb") as f:
        return "parquet" if f.read(4) == PARQUET_MAGIC else "csv"


def read_table(path: str | Path, options: TabularOptions | None = None) -> pd.DataFrame:
    """Read ``path`` (CSV or Parquet) and check it holds a header and data rows.

    Args:
        path: the file to read.
        options: encoding and delimiter for CSV files.

    Returns:
        The table, one column per field, with the file's column names.

    Raises:
        DataError: the file is missing, empty, not UTF-8 (or ``options.encoding``),
            ragged, has no data rows, or is not the Parquet file its name says.
    """
    options = options or TabularOptions()
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: file does not exist; expected a CSV or Parquet table")
    if not p.is_file():
        raise DataError(f"{p}: is not a file; expected a CSV or Parquet table")
    if p.stat().st_size == 0:
        raise DataError(f"{p}: file is empty; expected a header line and data rows")
    if file_kind(p) == "parquet":
        df = _read_parquet(p)
        if options.na_values:
            df = df.replace(list(options.na_values), float("nan"))
    else:
        df = _read_csv(p, options)
    if df.shape[1] == 0:
        raise DataError(f"{p}: no columns found; expected a header line and data rows")
    if len(df) == 0:
        raise DataError(f"{p}: has a header ({df.shape[1]} columns) but no data rows")
    names = [str(c) for c in df.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"{p}: duplicate column names {dupes}; expected unique names")
    df.columns = names
    return df


def _read_parquet(p: Path) -> pd.DataFrame:
    head = tail = b""
    if p.stat().st_size >= 8:
        with p.open("rb") as f:
            head = f.read(4)
            f.seek(-4, io.SEEK_END)
            tail = f.read(4)
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise DataError(f"{p}: is not a Parquet file (no 'PAR1' magic bytes at its start "
                        f"and end); expected a Parquet table, or rename a CSV file to .csv")
    try:
        return pd.read_parquet(p)
    except Exception as e:  # pyarrow raises several types for corrupt files
        raise DataError(f"{p}: could not be read as Parquet ({type(e).__name__}: {e})") from None


def _read_csv(p: Path, options: TabularOptions) -> pd.DataFrame:
    raw = p.read_bytes()
    encoding = "utf-8-sig" if options.encoding.lower().replace("_", "-") in ("utf-8", "utf8") \
        else options.encoding
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        bad = raw[e.start:e.start + 1].hex()
        raise DataError(f"{p}: line {line} holds byte 0x{bad} that is not valid "
                        f"{options.encoding}; expected {options.encoding} text (re-save the "
                        f"file as UTF-8 or set options.encoding)") from None
    except LookupError:
        raise DataError(f"{p}: unknown text encoding {options.encoding!r} in "
                        f"options.encoding") from None
    if not text.strip():
        raise DataError(f"{p}: file is empty; expected a header line and data rows")
    sep = options.delimiter or ("\t" if p.suffix.lower() == ".tsv" else ",")
    _check_ragged(p, text, sep)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep,
                           na_values=list(options.na_values) or None)
    except pd.errors.EmptyDataError:
        raise DataError(f"{p}: file is empty; expected a header line and data rows") from None
    except pd.errors.ParserError as e:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(e))
        if m:
            want, line, got = m.groups()
            raise DataError(f"{p}: line {line} has {got} fields; expected {want} "
                            f"(as many as the header)") from None
        raise DataError(f"{p}: is not a well-formed CSV file: {e}") from None


def _check_ragged(p: Path, text: str, sep: str) -> None:
    """Unique header names; every non-blank row as wide as the header (pandas pads short rows)."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    width = None
    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if width is None:
                width = len(row)
                dupes = sorted({c for c in row if row.count(c) > 1})
                if dupes:
                    raise DataError(f"{p}: line {reader.line_num}: duplicate column names "
                                    f"{dupes}; expected unique names")
            elif len(row) != width:
                raise DataError(f"{p}: line {reader.line_num} has {len(row)} fields; "
                                f"expected {width} (as many as the header)")
    except csv.Error as e:
        raise DataError(f"{p}: line {reader.line_num} is not well-formed CSV: {e}") from None
