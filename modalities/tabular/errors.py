"""The tabular plugin's warning category and how it names places in a file."""

from __future__ import annotations

import warnings


class DataWarning(UserWarning):
    """Data the plugin repaired or left out (a dropped column, a dropped row, inf values)."""


def warn(message: str) -> None:
    """Emit a :class:`DataWarning` pointing at the caller's caller."""
    warnings.warn(message, DataWarning, stacklevel=3)


def where(path: str, row: int | None = None, column: str | None = None,
          is_csv: bool = False) -> str:
    """``path``, then the row (0-based data row; CSV also gets its file line) and column.

    Examples:
        >>> where("t.csv", row=0, column="age", is_csv=True)
        "t.csv, row 1 (line 2), column 'age'"
    """
    out = str(path)
    if row is not None:
        out += f", row {row + 1}" + (f" (line {row + 2})" if is_csv else "")
    if column is not None:
        out += f", column {column!r}"
    return out
