"""Read a CSV (plain or gzip-compressed) or Parquet file into a DataFrame, with one clear
error per malformed file."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import zipfile
from pathlib import Path

import pandas as pd

from jepa_core.modality import DataError

from .options import TabularOptions

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx / .ods workbooks are zip archives
GZIP_MAGIC = b"\x1f\x8b"  # a gzip-compressed CSV (.csv.gz)
#: Suffixes of other data formats, refused by name instead of being read as CSV text.
OTHER_FORMATS = {".json": "JSON", ".jsonl": "JSON lines", ".ndjson": "JSON lines",
                 ".feather": "Feather", ".arrow": "Arrow IPC", ".h5": "HDF5", ".hdf5": "HDF5",
                 ".pkl": "pickle", ".pickle": "pickle", ".npy": "NumPy", ".npz": "NumPy",
                 ".dta": "Stata", ".sav": "SPSS", ".sas7bdat": "SAS", ".orc": "ORC",
                 ".avro": "Avro", ".db": "database", ".sqlite": "SQLite database"}
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # legacy .xls workbooks
#: Field separators tried when ``options.delimiter`` is not set, after ``,`` (``\t`` first for .tsv).
DELIMITERS = (",", ";", "\t", "|")
SNIFF_LINES = 20


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
    other = OTHER_FORMATS.get(p.suffix.lower())
    if other:
        raise DataError(f"{p}: {p.suffix} ({other}) is not a table format the tabular plugin "
                        f"reads; expected CSV (.csv, .tsv, .txt, optionally gzip-compressed) or "
                        f"Parquet: convert it, e.g. with pandas' to_parquet")
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
    if raw.startswith(GZIP_MAGIC):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise DataError(f"{p}: is gzip-compressed but cannot be decompressed ({e})") from None
    _check_not_binary(p, raw)
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
    sep = _delimiter(p, text, options.delimiter)
    _check_ragged(p, text, sep)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, na_values=list(options.na_values) or None)
        return _decimal_commas(df) if sep == ";" else df
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


def _check_not_binary(p: Path, raw: bytes) -> None:
    """A spreadsheet or archive saved under a CSV name: say what it is (no encoding fits it)."""
    if raw.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                names = z.namelist()
        except zipfile.BadZipFile:
            names = []
        if any(n.startswith("xl/") for n in names):
            what, fix = "an Excel workbook (.xlsx)", "export the sheet as CSV (or Parquet)"
        elif "content.xml" in names:
            what, fix = "an OpenDocument spreadsheet (.ods)", "export the sheet as CSV (or Parquet)"
        else:
            what, fix = "a zip archive", "unzip it"
    elif raw.startswith(OLE2_MAGIC):
        what, fix = "a legacy Excel workbook (.xls)", "export the sheet as CSV (or Parquet)"
    else:
        return
    raise DataError(f"{p}: is {what}, not CSV text; {fix} and point --data at the result "
                    f"(no options.encoding will read it)")


def _field_counts(text: str, sep: str) -> list[int]:
    """Fields per non-blank row in the first :data:`SNIFF_LINES` rows, split on ``sep``."""
    try:
        rows = itertools.islice(csv.reader(io.StringIO(text), delimiter=sep), SNIFF_LINES)
        return [len(row) for row in rows if row and any(f.strip() for f in row)]
    except csv.Error:
        return []


def _splits_evenly(text: str, sep: str) -> bool:
    """``sep`` cuts the header into two or more fields and every sampled row alike."""
    counts = _field_counts(text, sep)
    return bool(counts) and counts[0] > 1 and len(set(counts)) == 1


#: Spellings of ``options.delimiter`` that a YAML file or ``--set`` can carry.
_ALIASES = {"auto": None, "": None, "tab": "\t", "\\t": "\t"}


def _delimiter(p: Path, text: str, requested: str | None) -> str:
    """``options.delimiter``, or the separator that splits the first rows evenly.

    ``,`` (``\\t`` for ``.tsv``) is kept when it fits; otherwise the one other separator in
    :data:`DELIMITERS` that does. A requested separator that leaves the header in one
    field while another splits every row is an error naming that other separator.
    """
    preferred = "\t" if p.suffix.lower() == ".tsv" else ","
    requested = _ALIASES.get(requested, requested)
    if requested is not None and len(requested) != 1:
        raise DataError(f"{p}: options.delimiter must be one character (or 'auto', 'tab'), "
                        f"got {requested!r}")
    if requested:
        counts = _field_counts(text, requested)
        if counts and counts[0] == 1:
            fits = [d for d in DELIMITERS if d != requested and _splits_evenly(text, d)]
            if len(fits) == 1:
                raise DataError(f"{p}: the header is one field when split on "
                                f"options.delimiter={requested!r}, but the file looks "
                                f"{fits[0]!r}-separated: set options.delimiter={fits[0]!r}")
        return requested
    if _splits_evenly(text, preferred):
        return preferred
    fits = [d for d in DELIMITERS if d != preferred and _splits_evenly(text, d)]
    if len(fits) > 1:
        raise DataError(f"{p}: cannot tell the field separator: each of {fits} splits the first "
                        f"rows evenly; set options.delimiter")
    return fits[0] if fits else preferred


_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+\s*$|^\s*[+-]?\d+\s*$")


def _decimal_commas(df: pd.DataFrame) -> pd.DataFrame:
    """Numbers written ``3,14`` (the decimal comma of ``;``-separated files) as floats."""
    for name in df.columns:
        values = df[name].dropna()
        if not (pd.api.types.is_string_dtype(values) and len(values)
                and values.map(lambda v: isinstance(v, str)).all()):
            continue
        if values.str.contains(",").any() and values.str.match(_DECIMAL_COMMA).all():
            df[name] = pd.to_numeric(df[name].str.replace(",", ".", regex=False))
    return df
