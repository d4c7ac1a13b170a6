"""The column-wise sheet writer (report/xlsx_rows.py) writes the bytes xlsxwriter writes cell by cell."""

import re
import sys
import tempfile
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.report import xlsx, xlsx_rows
from sopaudit.report.i18n import translator
from sopaudit.report.safety import xlsx_text, xlsx_texts

# Text that each step of a text cell treats apart: Excel's escapes, control characters, the
# non-characters, rich text, whitespace of every kind at either end, formulas, long text.
AWKWARD = ["plain", "", " lead", "trail ", "\u3000wide", "nbsp\xa0", "\x85next", "mid\u2028line", "line\n",
           "a & b < c > d \"q\"", "_x0041_ kept", "_X00a1_", "_x004_", "ctl\x01char", "cr\rin", "\rstart",
           "tab\tin", "\ufffe", "x\uffffy", "<r>rich</r>", "<r>half", "=SUM(A1)", "+1", "-x", "@me", "é漢字🙂",
           "x" * 20000, "y" * 40000, "z" * 16383 + "é", None]


def _frame() -> pd.DataFrame:
    """Awkward values of every kind; the last two rows hold no value at all."""
    na = [None, None]
    return pd.DataFrame({
        "case_id": ["C1", "C1", " lead", "trail ", "a & b < c > d \"q\"", "=SUM(A1)", None, *na],
        "text": ["_x0041_ kept", "ctl\x01char", "<r>rich</r>", "line\nbreak", "é漢字🙂", "", "x" * 40000, *na],
        "more": ["\u3000wide", "nbsp\xa0", "cr\rin", "\ufffe", "<r>half", "y" * 20000, "_X00a1_", *na],
        "count": pd.array([1, None, 3, 4, 5, 6, 12345678901234, *na], dtype="Int64"),
        "share": [0.1, np.nan, 1 / 3, np.inf, -2.5e-9, 1e20, 0.0, np.nan, np.nan],
        "flag": pd.array([True, False, None, True, True, False, None, *na], dtype="boolean"),
        "at": pd.to_datetime(["2024-01-02 08:00:01.5", None, "2024-03-04 23:59:59", "2024-03-04 00:00",
                              "2023-12-31 12:00", "2024-02-29 13:14:15.123456", None, *na],
                             format="ISO8601").tz_localize("Asia/Jakarta"),
        "empty": [None] * 9,
    })


def _sheet_xml(path) -> bytes:
    """The sheet and the styles its cells point to."""
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml") + z.read("xl/styles.xml")


def test_rows_at_once_write_the_bytes_of_cell_by_cell(tmp_path, monkeypatch):
    t = translator("en")
    df = _frame()
    assert xlsx_rows.AVAILABLE  # this xlsxwriter has what the column-wise writer uses
    assert {xlsx._codes(df[c])[2] for c in df} == {"t", "n", "b", "d"}  # no mixed column: written at once
    # the last two rows are empty: neither writer writes them, both keep them in the autofilter range
    fast = xlsx._Book(tmp_path / "fast.xlsx")
    assert fast.sheet("s", df, t, percent=("share",)) == len(df)
    fast.close()
    monkeypatch.setattr(xlsx._Book, "_rows_at_once", lambda self, ws, c, f: self._rows_by_cell(ws, c, f, frozenset()))
    slow = xlsx._Book(tmp_path / "slow.xlsx")
    slow.sheet("s", df, t, percent=("share",))
    slow.close()
    a, b = _sheet_xml(tmp_path / "fast.xlsx"), _sheet_xml(tmp_path / "slow.xlsx")
    assert a == b
    assert b'<c r="A2" t="inlineStr"><is><t>C1</t></is></c>' in a
    assert b'<row r="8">' in a and b'<row r="9">' not in a  # a row without any value is not written


def test_a_categorical_text_column_gives_the_cells_of_its_text(tmp_path):
    # the findings sheet's explanations and kind labels come as categoricals (details.categorical)
    values = [v for v in AWKWARD if v is not None]
    cat = pd.Series(pd.Categorical([values[i % len(values)] for i in range(0, 3 * len(values), 2)] + [None],
                                   categories=[*values, "unused"]))
    codes, uniques, kind = xlsx._codes(cat)
    plain = xlsx._codes(cat.astype(object))
    assert kind == plain[2] == "t"
    assert xlsx._values(codes, uniques) == xlsx._values(*plain[:2])
    t = translator("en")
    for name, column in (("cat", cat), ("plain", cat.astype(object))):
        book = xlsx._Book(tmp_path / f"{name}.xlsx")
        book.sheet("s", pd.DataFrame({"detail": column}), t)
        book.close()
    assert _sheet_xml(tmp_path / "cat.xlsx") == _sheet_xml(tmp_path / "plain.xlsx")


def test_rows_at_once_many_rows_and_a_full_frame(tmp_path, monkeypatch):
    t = translator("en")
    rng = np.random.default_rng(3)
    n = 2500
    df = pd.DataFrame({"case": [f"K{i % 97}" for i in range(n)], "v": rng.integers(0, 50, n),
                       "x": rng.random(n), "ok": rng.random(n) > 0.5})
    monkeypatch.setattr(xlsx_rows, "CHUNK", 1000)  # several chunks
    fast = xlsx._Book(tmp_path / "fast.xlsx")
    fast.sheet("s", df, t)
    fast.close()
    monkeypatch.setattr(xlsx._Book, "_rows_at_once", lambda self, ws, c, f: self._rows_by_cell(ws, c, f, frozenset()))
    slow = xlsx._Book(tmp_path / "slow.xlsx")
    slow.sheet("s", df, t)
    slow.close()
    assert _sheet_xml(tmp_path / "fast.xlsx") == _sheet_xml(tmp_path / "slow.xlsx")


def test_text_tails_at_once_are_those_of_one_value_at_a_time():
    for style in ("", ' s="3"'):
        fixed = [None if v is None else xlsx_text(v) for v in AWKWARD]
        got = xlsx_rows._text_tails(pa.array(fixed, pa.string()), style).to_pylist()
        assert got == [None if v is None else xlsx_rows._text_tail(v, style) for v in fixed]


def test_xlsx_texts_are_xlsx_text_of_each_value():
    assert xlsx_texts(pa.array(AWKWARD, pa.string())).to_pylist() == [None if v is None else xlsx_text(v)
                                                                        for v in AWKWARD]


def test_the_whitespace_class_is_pythons():
    # _preserve_whitespace looks for Python's `\s` at either end; Arrow's RE2 class must be the same set
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    python = [bool(re.fullmatch(r"\s", ch)) for ch in chars]
    re2 = pc.match_substring_regex(pa.array(chars), f"^{xlsx_rows._SPACE_RE2}$").to_pylist()
    assert re2 == python and sum(python) == 29


def test_rows_copied_as_bytes_give_the_sheet_xlsxwriter_assembles(tmp_path, monkeypatch):
    from xlsxwriter.worksheet import Worksheet

    t = translator("en")
    df = pd.concat([_frame()] * 800, ignore_index=True)  # rows past one 1 MB copy, non-ASCII text
    written = {}
    for name, worksheet in (("bytes", xlsx_rows.RowsWorksheet), ("text", Worksheet)):
        monkeypatch.setattr(xlsx._Workbook, "worksheet_class", worksheet)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / name))  # xlsxwriter's temporary files
        (tmp_path / name).mkdir()
        book = xlsx._Book(tmp_path / f"{name}.xlsx")
        book.sheet("s", df, t, percent=("share",))
        book.sheet("empty", df.iloc[:0], t)
        assert type(book.wb.worksheets()[0]) is worksheet
        book.close()
        assert list((tmp_path / name).iterdir()) == []  # the rows files are removed
        with zipfile.ZipFile(tmp_path / f"{name}.xlsx") as z:
            written[name] = [z.read(n) for n in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml")]
    assert written["bytes"] == written["text"]
    assert len(written["bytes"][0]) > 1 << 20 and "é漢字🙂".encode() in written["bytes"][0]


def test_the_workbook_is_zipped_at_the_fast_level_and_xlsxwriter_left_as_it_was(tmp_path):
    import zlib

    import xlsxwriter.workbook

    t = translator("en")
    book = xlsx._Book(tmp_path / "book.xlsx")
    book.sheet("s", _frame(), t, percent=("share",))
    book.close()
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    with zipfile.ZipFile(tmp_path / "book.xlsx") as z:
        assert z.testzip() is None
        info = z.getinfo("xl/worksheets/sheet1.xml")
        data = z.read(info)
    assert info.compress_type == zipfile.ZIP_DEFLATED
    packed = zlib.compressobj(2, zlib.DEFLATED, -15)
    assert info.compress_size == len(packed.compress(data) + packed.flush())


def test_integer_cells_at_once_are_the_text_of_one_value_at_a_time():
    # integers a float holds exactly are joined by Arrow; others (and floats) go one by one
    for values in ([0, 1, -1, 7, 12345, -987654321, 2**53 - 1, -(2**53 - 1), 999_999_999_999_999],
                   [3, 2**53, 10**16, -(2**60)], [1.5, 2, -0.0, 1e20, 1 / 3]):
        codes = np.r_[np.arange(len(values)), -1, 0]
        for style in (None, 3):
            attr = f' s="{style}"' if style else ""
            expected = [xlsx_rows._number_tail(values[c], attr) if c >= 0 else None for c in codes]
            assert xlsx_rows.column_tails(codes, values, "n", style).to_pylist() == expected, values
    assert xlsx_rows._plain_integers([2**53 - 1]) and not xlsx_rows._plain_integers([2**53])


def test_code_labels_are_computed_once_per_code_and_missing_stays_missing():
    from sopaudit.report.values import labelled, texts_by_code, with_code_labels

    t = translator("en")
    df = pd.DataFrame({"status": pd.array(["conforming", None, "deviating", "no_such_code", "conforming"],
                                          dtype="string"), "n": [1, 2, 3, 4, 5]})
    out = with_code_labels(df, t)
    assert out["status"].tolist()[:1] == [t("status.conforming")] and pd.isna(out["status"].tolist()[1])
    assert out["status"].tolist()[2:] == [t("status.deviating"), "no_such_code", t("status.conforming")]
    assert df["status"].tolist()[0] == "conforming"  # the table itself is left as it was
    calls = []
    cat = labelled(pd.Series(["a", "b", "a", None, "c"]), lambda v: calls.append(v) or ("same" if v != "c" else "c"))
    assert sorted(calls) == ["a", "b", "c"] and list(cat.categories) == ["same", "c"]
    assert texts_by_code(np.array([-1, -1]), []).isna().all()
