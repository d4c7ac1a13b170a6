"""The fast report writers against the writers they replace, on drawn frames: the CSV text of
`ingest.csvtext.csv_chunks` is what `DataFrame.to_csv` writes, and the workbook rows of
`report.xlsx_rows` are the bytes xlsxwriter writes cell by cell. Values of every kind a report
holds: any text (quotes, commas, line breaks, control characters, formulas, emoji), missing
values, integers near the limits, floats (NaN, infinities, -0.0, tiny and huge), booleans,
times in several zones with and without fractions of a second, categoricals."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sopaudit.ingest.csvtext import csv_chunks  # noqa: E402

EXAMPLES = int(os.environ.get("SOPAUDIT_FUZZ_EXAMPLES", "80"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)  # no lone surrogate: files are UTF-8
ZONES = ["Asia/Jakarta", "Asia/Makassar", "UTC", "America/St_Johns"]


ALL_KINDS = ("object", "string", "category", "Int64", "float", "bool", "time", "fraction", "naive", "duration", "mixed")


@st.composite
def frames(draw, kinds: tuple[str, ...] = ALL_KINDS) -> pd.DataFrame:
    n = draw(st.integers(0, 12))

    def values(strategy, missing: bool = True) -> list:
        item = st.one_of(st.none(), strategy) if missing else strategy
        return draw(st.lists(item, min_size=n, max_size=n))

    kinds = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=5))
    columns = {}
    for i, kind in enumerate(kinds):
        name = f"{draw(TEXT)}{i}"
        if kind == "object":
            col = pd.Series(values(TEXT), dtype=object)
        elif kind == "string":
            col = pd.Series(values(TEXT), dtype="string")
        elif kind == "category":
            col = pd.Series(pd.Categorical(values(st.sampled_from(["a", "b,c", 'q"x', "line\nbreak", "=1+1", "é"]))))
        elif kind == "Int64":
            col = pd.Series(pd.array(values(st.integers(-2**63 + 1, 2**63 - 1)), dtype="Int64"))
        elif kind == "float":
            col = pd.Series(values(st.floats(allow_nan=True, allow_infinity=True), missing=False), dtype="float64")
        elif kind == "bool":
            col = pd.Series(values(st.booleans(), missing=False), dtype=bool)
        elif kind in ("time", "fraction", "naive"):
            us = st.integers(0, 10**6 - 1) if kind == "fraction" else st.just(0)
            step = st.sampled_from([1, 86_400]) if kind == "naive" else st.just(1)  # naive dates at midnight
            stamps = values(st.tuples(st.integers(17_000, 22_000), st.integers(0, 86_399), us, step))
            utc = pd.to_datetime([None if v is None else (v[0] * 86_400 + v[1] // v[3] * v[3]) * 10**6 + v[2]
                                  for v in stamps], unit="us", utc=True)
            col = pd.Series(utc).dt.tz_convert(draw(st.sampled_from(ZONES)))
            if kind == "naive":
                col = col.dt.tz_localize(None)
        elif kind == "duration":
            col = pd.Series(pd.to_timedelta(values(st.integers(-10**12, 10**12)), unit="ms"))
        else:  # what an object column of mixed values holds
            col = pd.Series(values(st.one_of(TEXT, st.integers(-10**6, 10**6), st.booleans())), dtype=object)
        columns[name] = col.reset_index(drop=True)
    return pd.DataFrame(columns)


@SETTINGS
@given(frames(), st.integers(1, 5))
def test_csv_text_is_what_pandas_writes(df, rows):
    text = b"".join(bytes(b) for b in csv_chunks(df, rows=rows)).decode()
    assert text == df.to_csv(index=False, lineterminator="\n")


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml") + z.read("xl/styles.xml")


@SETTINGS
@given(frames(kinds=("object", "string", "category", "Int64", "float", "bool", "time", "fraction", "mixed")))
def test_workbook_rows_at_once_are_the_bytes_of_cell_by_cell(df):
    from sopaudit.report import xlsx
    from sopaudit.report.i18n import translator

    t = translator("en")
    with tempfile.TemporaryDirectory() as tmp:
        written = []
        for name, by_cell in (("fast", False), ("slow", True)):
            book = xlsx._Book(Path(tmp) / f"{name}.xlsx")
            if by_cell:  # the cell-by-cell writer the column-wise one replaces
                book._rows_at_once = lambda ws, c, f, book=book: book._rows_by_cell(ws, c, f, frozenset())
            book.sheet("s", df, t)
            book.close()
            written.append(_sheet_xml(Path(tmp) / f"{name}.xlsx"))
    assert written[0] == written[1]
