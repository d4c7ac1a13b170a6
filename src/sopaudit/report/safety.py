"""Values from exports can contain anything: neutralise spreadsheet formulas (CSV/XLSX injection),
strip characters a workbook cannot hold, and embed data in HTML without letting it close a tag."""

from __future__ import annotations

import json
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# Control characters the XLSX format cannot store (openpyxl refuses them).
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ILLEGAL_XLSX_RE2 = _ILLEGAL_XLSX.pattern  # the same class, read alike by Arrow's RE2
_TRIGGERS_RE2 = r"^[=+\-@\t\r]"  # text starting with one of _TRIGGERS
XLSX_CELL_LIMIT = 32767  # characters in one Excel cell


def neutralise(value):
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns are neutralised; numbers and times stay as they are. The copy
    shares the columns it leaves alone (a column is replaced, never written into)."""
    out = df.copy(deep=False)
    for col in out.columns:
        # checked over the whole column first (vectorised for text columns, once per distinct
        # value for object ones): most columns (ids, kinds, steps) need nothing
        if isinstance(out[col].dtype, pd.StringDtype):
            hit = bool(out[col].str.startswith(_TRIGGERS).fillna(False).any())
        elif out[col].dtype == object:
            hit = any(isinstance(v, str) and v.startswith(_TRIGGERS) for v in pd.unique(out[col].dropna()))
        else:
            hit = False
        if hit:
            out[col] = out[col].map(neutralise, na_action="ignore")
    return out


def xlsx_text(value: str) -> str:
    """Text fit for one XLSX cell: neutralised, illegal control characters replaced by U+FFFD,
    cut to Excel's cell limit (marked with an ellipsis)."""
    text = neutralise(_ILLEGAL_XLSX.sub("\ufffd", value))
    if len(text) > XLSX_CELL_LIMIT:
        text = text[: XLSX_CELL_LIMIT - 1] + "…"
    return text


def xlsx_texts(values: pa.Array) -> pa.Array:
    """`xlsx_text` of every value of a string array (nulls stay null), with Arrow: a column's
    distinct values without a Python call each (tests/test_xlsx_rows.py compares the two)."""
    text = pc.replace_substring_regex(values, _ILLEGAL_XLSX_RE2, "\ufffd")
    text = pc.if_else(pc.match_substring_regex(text, _TRIGGERS_RE2), pc.binary_join_element_wise("'", text, ""), text)
    long = pc.fill_null(pc.greater(pc.utf8_length(text), XLSX_CELL_LIMIT), False)
    if not pc.any(long).as_py():
        return text
    cut = pa.array([xlsx_text(v) for v in values.filter(long).to_pylist()], pa.string())
    return pc.replace_with_mask(text, long, cut)


def json_for_script(data) -> str:
    """JSON to place inside `<script type="application/json">`: `<`, `>`, `&` and the two
    JavaScript line separators are written as escapes, so no value can end the script element
    or open a comment, and `JSON.parse` still reads the exact values."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
