"""Bad files: each gets one DataError naming the file and what was expected."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from jepa_core.modality import DataError
from modalities.tabular.reader import file_kind, read_table
from tests.helpers import tiny_table


def test_read_table__csv_and_parquet_agree(tmp_path):
    df = tiny_table()
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    a, b = read_table(tmp_path / "t.csv"), read_table(tmp_path / "t.parquet")
    assert list(a.columns) == list(b.columns) == list(df.columns)
    assert len(a) == len(b) == len(df)


def test_read_table__sniffs_parquet_without_extension(tmp_path):
    tiny_table().to_parquet(tmp_path / "table.data")
    assert file_kind(tmp_path / "table.data") == "parquet"
    assert len(read_table(tmp_path / "table.data")) == 12


def test_read_table__missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: file does not exist"):
        read_table(tmp_path / "nope.csv")


def test_read_table__empty_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match=r"e\.csv: file is empty"):
        read_table(tmp_path / "e.csv")


def test_read_table__blank_file(tmp_path):
    (tmp_path / "e.csv").write_text("\n\n  \n")
    with pytest.raises(DataError, match=r"e\.csv: file is empty"):
        read_table(tmp_path / "e.csv")


def test_read_table__header_only(tmp_path):
    (tmp_path / "h.csv").write_text("a,b,c\n")
    with pytest.raises(DataError, match=r"h\.csv: has a header \(3 columns\) but no data rows"):
        read_table(tmp_path / "h.csv")


def test_read_table__ragged_long_row(tmp_path):
    (tmp_path / "r.csv").write_text("a,b,c\n1,2,3\n4,5,6,7\n")
    with pytest.raises(DataError, match=r"r\.csv: line 3 has 4 fields; expected 3"):
        read_table(tmp_path / "r.csv")


def test_read_table__ragged_short_row(tmp_path):
    (tmp_path / "r.csv").write_text("a,b,c\n1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(DataError, match=r"r\.csv: line 4 has 2 fields; expected 3"):
        read_table(tmp_path / "r.csv")


def test_read_table__non_utf8_bytes(tmp_path):
    (tmp_path / "l.csv").write_bytes("a,b\n1,x\n2,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"l\.csv: line 3 holds byte 0xe9 .*expected utf-8"):
        read_table(tmp_path / "l.csv")


def test_read_table__other_encoding_through_options(tmp_path):
    from modalities.tabular import TabularOptions

    (tmp_path / "l.csv").write_bytes("a,b\n1,x\n2,caf\xe9\n".encode("latin-1"))
    df = read_table(tmp_path / "l.csv", TabularOptions(encoding="latin-1"))
    assert df["b"].tolist() == ["x", "café"]


def test_read_table__parquet_that_is_not_parquet(tmp_path):
    (tmp_path / "fake.parquet").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"fake\.parquet: is not a Parquet file"):
        read_table(tmp_path / "fake.parquet")


def test_read_table__truncated_parquet(tmp_path):
    tiny_table().to_parquet(tmp_path / "t.parquet")
    data = (tmp_path / "t.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[:40] + data[-4:])
    with pytest.raises(DataError, match=r"cut\.parquet: could not be read as Parquet"):
        read_table(tmp_path / "cut.parquet")


def test_read_table__directory(tmp_path):
    with pytest.raises(DataError, match="is not a file"):
        read_table(tmp_path)


def test_read_table__tsv_by_extension(tmp_path):
    pd.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"]}).to_csv(tmp_path / "t.tsv", sep="\t",
                                                             index=False)
    assert list(read_table(tmp_path / "t.tsv").columns) == ["a", "b"]


def test_read_table__duplicate_header(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match=r"d\.csv: line 1: duplicate column names \['a'\]"):
        read_table(tmp_path / "d.csv")


def test_read_table__na_values_in_parquet(tmp_path):
    from modalities.tabular import TabularOptions

    pd.DataFrame({"a": ["x", "?", "y"], "b": [1.5, 2.5, 3.5]}).to_parquet(tmp_path / "n.parquet")
    df = read_table(tmp_path / "n.parquet", TabularOptions(na_values=["?"]))
    assert df["a"].isna().tolist() == [False, True, False]


def test_read_table__semicolon_separated_is_detected(tmp_path):
    (tmp_path / "s.csv").write_text("height;color;weight\n170,5;red;70\n160;blue;61,25\n")
    df = read_table(tmp_path / "s.csv")
    assert list(df.columns) == ["height", "color", "weight"]
    assert df["height"].tolist() == [170.5, 160.0]  # decimal commas of ;-separated files
    assert df["weight"].tolist() == [70.0, 61.25]
    assert df["color"].tolist() == ["red", "blue"]


@pytest.mark.parametrize("sep", ["\t", "|"])
def test_read_table__other_separators_are_detected(tmp_path, sep):
    (tmp_path / "s.csv").write_text(f"a{sep}b\n1.5{sep}x\n2.5{sep}y\n")
    df = read_table(tmp_path / "s.csv")
    assert list(df.columns) == ["a", "b"] and df["a"].tolist() == [1.5, 2.5]


def test_read_table__comma_wins_when_it_splits_evenly(tmp_path):
    (tmp_path / "c.csv").write_text("a,b\nx;y,1\nz;w,2\n")
    assert read_table(tmp_path / "c.csv")["a"].tolist() == ["x;y", "z;w"]


def test_read_table__wrong_delimiter_option_names_the_right_one(tmp_path):
    from modalities.tabular import TabularOptions

    (tmp_path / "s.csv").write_text("a;b;c\n1;2;3\n4;5;6\n")
    with pytest.raises(DataError, match=r"s\.csv: .*looks ';'-separated: set options\.delimiter=';'"):
        read_table(tmp_path / "s.csv", TabularOptions(delimiter=","))


def test_read_table__ambiguous_separator_asks_for_the_option(tmp_path):
    (tmp_path / "a.csv").write_text("a;b|c\n1;2|3\n")
    with pytest.raises(DataError, match=r"a\.csv: cannot tell the field separator.*set options\.delimiter"):
        read_table(tmp_path / "a.csv")


def test_read_table__xlsx_renamed_csv_says_spreadsheet(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "book.csv", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DataError, match=r"book\.csv: is an Excel workbook \(\.xlsx\), not CSV text; "
                                        r"export the sheet as CSV .*no options\.encoding will read it"):
        read_table(tmp_path / "book.csv")


def test_read_table__xls_renamed_csv_says_spreadsheet(tmp_path):
    (tmp_path / "old.csv").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    with pytest.raises(DataError, match=r"old\.csv: is a legacy Excel workbook \(\.xls\).*export"):
        read_table(tmp_path / "old.csv")


@pytest.mark.parametrize("spelling, text, columns", [
    ("auto", "a;b\n1;2\n", ["a", "b"]),
    ("tab", "a;b\tc\n1;2\t3\n", ["a;b", "c"]),
    ("\\t", "a;b\tc\n1;2\t3\n", ["a;b", "c"]),
])
def test_read_table__delimiter_spellings(tmp_path, spelling, text, columns):
    from modalities.tabular import TabularOptions

    (tmp_path / "t.csv").write_text(text)
    assert list(read_table(tmp_path / "t.csv", TabularOptions(delimiter=spelling)).columns) == columns


def test_read_table__delimiter_of_two_characters(tmp_path):
    from modalities.tabular import TabularOptions

    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"t\.csv: options\.delimiter must be one character"):
        read_table(tmp_path / "t.csv", TabularOptions(delimiter=";;"))


def test_read_table__gzip_compressed_csv(tmp_path):
    df = tiny_table()
    df.to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress((tmp_path / "t.csv").read_bytes()))
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.csv.gz"), read_table(tmp_path / "t.csv"))
    (tmp_path / "cut.csv.gz").write_bytes((tmp_path / "t.csv.gz").read_bytes()[:40])
    with pytest.raises(DataError, match=r"cut\.csv\.gz: is gzip-compressed but cannot be decompressed"):
        read_table(tmp_path / "cut.csv.gz")


def test_read_table__other_data_formats_are_named(tmp_path):
    (tmp_path / "t.json").write_text('[{"a": 1, "b": 2}]')
    with pytest.raises(DataError, match=r"t\.json: \.json \(JSON\) is not a table format the tabular "
                                        r"plugin reads; expected CSV .* or Parquet"):
        read_table(tmp_path / "t.json")
