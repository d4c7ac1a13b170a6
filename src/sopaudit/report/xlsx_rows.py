"""The data rows of a workbook sheet as the XML xlsxwriter writes them in constant-memory mode,
built a column at a time with Arrow instead of one Python call per cell.

xlsxwriter costs about 5 µs a cell (several calls per cell in its inner loop): 4 s for the 700,000
cells of a 150,000-case audit. Here each distinct value of a column is rendered once (a case id,
a kind, a count, a time) and the cells are Arrow `take`s and joins; the bytes are the ones
xlsxwriter itself would write (`<c r="B7" s="3"><v>45292.5</v></c>`, inline strings escaped the
same way), and tests/test_xlsx_rows.py compares the two writers' sheets byte for byte. A sheet
with a column of mixed types, or with per-row formats, is written cell by cell as before.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter.utility import xl_col_to_name

from sopaudit.ingest.csvtext import text_bytes

# xlsxwriter's own escaping and limits, so the cells are its bytes; an xlsxwriter without them
# (another version) leaves every sheet to the cell-by-cell writer (AVAILABLE is False).
try:
    from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate
    from xlsxwriter.worksheet import Worksheet
    from xlsxwriter.xmlwriter import XMLwriter

    _escape_control = XMLwriter._escape_control_characters
    AVAILABLE = all(hasattr(Worksheet, name) for name in ("_write_single_row", "_check_dimensions"))
except (ImportError, AttributeError):  # pragma: no cover - depends on the installed xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    AVAILABLE = False

CHUNK = 100_000  # rows joined at a time: bounds the memory of a large sheet
_STRMAX = 32767


def _text_tail(s: str, style: str) -> str:
    """What follows the cell reference of a text cell, as xlsxwriter's _write_cell writes it."""
    if len(s) > _STRMAX // 2 and _utf16_len(s) > _STRMAX:
        s = _utf16_truncate(s, _STRMAX)
    s = _escape_control(s)
    if s.startswith("<r>") and s.endswith("</r>"):
        return f'"{style} t="inlineStr"><is>{s}</is></c>'
    preserve = ' xml:space="preserve"' if _preserve_whitespace(s) else ""
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'"{style} t="inlineStr"><is><t{preserve}>{s}</t></is></c>'


# What _escape_control changes (Excel's _xHHHH_ escapes, control characters, U+FFFE and U+FFFF)
# and the whitespace `_preserve_whitespace` looks for at either end (Python's `\s`, which is
# str.isspace: tests/test_xlsx_rows.py checks the list), for Arrow's RE2.
_ESCAPED_RE2 = r"_x[0-9a-fA-F]{4}_|[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]"
_SPACE_RE2 = r"[\t\n\x0b\x0c\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"


def _text_tails(texts: pa.Array, style: str) -> pa.Array:
    """`_text_tail` of every value (nulls stay null): with Arrow for the values that need only
    the XML escapes (nearly all), in Python for the rest (Excel's escapes, control characters,
    rich text, whitespace at either end, long text)."""
    odd = pc.or_(pc.match_substring_regex(texts, _ESCAPED_RE2), pc.starts_with(texts, "<r>"))
    odd = pc.or_(odd, pc.match_substring_regex(texts, f"^{_SPACE_RE2}|{_SPACE_RE2}$"))
    odd = pc.fill_null(pc.or_(odd, pc.greater(pc.utf8_length(texts), _STRMAX // 2)), False)
    escaped = texts
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        escaped = pc.replace_substring(escaped, char, entity)
    tails = pc.binary_join_element_wise(f'"{style} t="inlineStr"><is><t>', escaped, "</t></is></c>", "")
    if not pc.any(odd).as_py():
        return tails
    slow = pa.array([_text_tail(v, style) for v in texts.filter(odd).to_pylist()], pa.string())
    return pc.replace_with_mask(tails, odd, slow)


def _number_tail(v, style: str) -> str:
    return f'"{style}><v>{v:.16G}</v></c>'


def _bool_tail(v: bool, style: str) -> str:
    return f'"{style} t="b"><v>{int(v)}</v></c>'


def _plain_integers(values: list) -> bool:
    """Whether every value is an int that {:.16G} writes as its digits: one a float holds
    exactly (under 2**53), which has fewer than 17 digits, so no exponent."""
    return all(type(v) is int and -2**53 < v < 2**53 for v in values)


def column_tails(codes: np.ndarray, uniques: list, kind: str, style: int | None) -> pa.Array:
    """The cell XML after the reference for each row (null where the cell stays empty): each
    distinct value (xlsx._codes) rendered once, then taken by its codes."""
    attr = f' s="{style}"' if style else ""
    if kind == "t":
        tails = _text_tails(pa.array(uniques, pa.string()), attr)
    elif kind == "n" and _plain_integers(uniques):
        digits = pc.cast(pa.array(uniques, pa.int64()), pa.string())
        tails = pc.binary_join_element_wise(f'"{attr}><v>', digits, "</v></c>", "")
    else:
        render = {"n": _number_tail, "d": _number_tail, "b": _bool_tail}[kind]
        tails = pa.array([None if u is None else render(u, attr) for u in uniques], pa.string())
    return tails.take(pa.array(codes, mask=codes < 0))


def write_rows(fh, columns: list[pa.Array], first_row: int) -> int:
    """Write the rows (1-based Excel row numbers from first_row + 1) whose cells are the column
    tails into `fh`, a text file over a binary one (as xlsxwriter's rows file is): their bytes go
    to the binary one. A row without any value is left out, as xlsxwriter does. Returns the
    index (0-based) of the last row written, or -1."""
    n = len(columns[0]) if columns else 0
    letters = [f'<c r="{xl_col_to_name(i)}' for i in range(len(columns))]
    last = -1
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        rows = np.arange(first_row + lo, first_row + hi)
        refs = pc.cast(pa.array(rows + 1), pa.string())
        cells = []
        any_value = np.zeros(hi - lo, dtype=bool)
        for letter, tails in zip(letters, columns, strict=True):
            part = tails.slice(lo, hi - lo)
            any_value |= part.is_valid().to_numpy(zero_copy_only=False)
            cells.append(pc.binary_join_element_wise(letter, refs, part, "").fill_null(""))
        if not any_value.any():
            continue
        line = pc.binary_join_element_wise('<row r="', refs, '">', *cells, "</row>", "")
        line = line.filter(pa.array(any_value))
        fh.flush()  # the text written so far, then these bytes, with no str made of them
        fh.buffer.write(text_bytes(line))
        last = int(rows[np.flatnonzero(any_value)[-1]])
    return last


class RowsWorksheet(Worksheet):
    """xlsxwriter's worksheet, whose rows file (constant-memory mode) is copied into the sheet's
    XML as bytes: xlsxwriter reads it back as text 64 KB at a time and encodes it again (40 ms
    for the 15 MB of a 150,000-case audit's sheets). An xlsxwriter whose sheet files are not
    the text files this expects is left to do it its own way."""

    def _write_optimized_sheet_data(self) -> None:
        rows, sheet = getattr(self, "row_data_fh", None), getattr(self, "fh", None)
        if self.dim_rowmin is None or not all(hasattr(f, "buffer") for f in (rows, sheet)):
            return super()._write_optimized_sheet_data()
        self._xml_start_tag("sheetData")
        rows.flush()
        sheet.flush()
        rows.buffer.seek(0)
        shutil.copyfileobj(rows.buffer, sheet.buffer, 1 << 20)
        rows.close()
        os.unlink(self.row_data_filename)
        self._xml_end_tag("sheetData")
