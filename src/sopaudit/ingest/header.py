"""Find the header row of a sheet that starts with a title block.

Report screens export a few title rows above the table ("REKAP PERMOHONAN PASPOR BULAN JANUARI
2025", the office name, an empty row), often in merged cells. The header is the first row that
looks like one: at least two filled cells, every filled cell a short text that is not a number or a
date, no name repeated, and about as wide as the widest of the first rows (a title row fills one or
two cells). The rows above it are the export's title, kept for the quality report.
"""

from __future__ import annotations

import datetime as dt
import re

from sopaudit.core.errors import MappingError

SCAN_ROWS = 30  # the header is looked for in the first rows of a sheet
MAX_NAME = 80  # a header cell longer than this is a sentence (a title), not a column name
WIDE_SHARE = 0.6  # a header fills at least this share of the widest row's filled cells

_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)*$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")


def _filled(row) -> list:
    return [v for v in (row or ()) if v is not None and not (isinstance(v, str) and not v.strip())]


def _name_like(v) -> bool:
    if not isinstance(v, str):
        return False  # numbers, dates, times, booleans are data
    text = v.strip()
    return len(text) <= MAX_NAME and not _NUMBER.match(text) and not _DATE.match(text)


def looks_like_header(row, widest: int) -> bool:
    """Whether a sheet row can be the header of a table whose widest row fills `widest` cells."""
    cells = _filled(row)
    if len(cells) < 2 or len(cells) < WIDE_SHARE * widest:
        return False
    if not all(_name_like(v) for v in cells):
        return False
    names = [str(v).strip().lower() for v in cells]
    return len(set(names)) == len(names)


def find_header(head: list, where: str, header_row: int | None = None) -> int:
    """The 0-based index in `head` (the first sheet rows) of the header row.

    `header_row` (1-based sheet row, from the mapping) is taken as given; otherwise the first row
    that looks like a header. A sheet without such a row keeps its first filled row as the header
    (the old behaviour: the mapping will then name what is missing)."""
    if header_row is not None:
        if header_row < 1:
            raise MappingError(f"{where}: header_row must be a sheet row number (1 or more), not {header_row}")
        if header_row > len(head) or not _filled(head[header_row - 1]):
            raise MappingError(
                f"{where}: header_row {header_row} is {'beyond the sheet' if header_row > len(head) else 'an empty row'}; "
                "give the number of the row that holds the column names, as Excel shows it"
            )
        return header_row - 1
    rows = head[:SCAN_ROWS]
    widest = max((len(_filled(r)) for r in rows), default=0)
    for i, row in enumerate(rows):
        if looks_like_header(row, widest):
            return i
    return next((i for i, r in enumerate(rows) if _filled(r)), 0)


def title_lines(rows: list) -> list[str]:
    """The filled title rows above a header, each as its cells' text joined by ' | '."""
    out = []
    for row in rows:
        cells = _filled(row)
        if cells:
            out.append(" | ".join(_text(v) for v in cells))
    return out


def _text(v) -> str:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    return str(v).strip()
