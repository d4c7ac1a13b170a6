"""Read an XLSX workbook: one sheet, or every sheet of a workbook kept one sheet per period.

The header is found under a title block (header.py) or given (`header_row`); the rows above it
are kept as the export's title. With several sheets of the same header (one per month, say) the
sheets are read as one table, sheet after sheet, and each row keeps its sheet name and sheet row
(`Maret!R17`). Date cells, numbers and text are kept as typed; a column mixing them is text.
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa

from sopaudit.core.errors import InputFileError, MappingError
from sopaudit.ingest.header import SCAN_ROWS, find_header, title_lines
from sopaudit.ingest.source import SheetRefs, Source, clean_names

# An XLSX whose parts inflate beyond this, or by more than this ratio, is refused (zip bomb).
XLSX_MAX_BYTES = 2 << 30
XLSX_MAX_RATIO = 200


@dataclass
class _Sheet:
    title: str
    names: list[str]
    notes: list[str]
    header_row: int  # sheet row of the header
    title_lines: list[str]
    rows: object  # iterator over the sheet rows after the header
    head_rest: list  # the scanned rows after the header


def check_xlsx_archive(path: Path) -> None:
    """Refuse zip bombs and XML parts that declare a DTD or entities."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > XLSX_MAX_BYTES or total / packed > XLSX_MAX_RATIO:
                raise InputFileError(
                    f"{path}: refused to open this XLSX: its parts inflate to {total:,} bytes from "
                    f"{packed:,} (a zip bomb or a damaged file); export the data again as CSV"
                )
            for info in infos:
                if info.filename.endswith((".xml", ".rels")):
                    with zf.open(info) as fh:
                        head = fh.read(65536)
                    # A DTD can only stand in the prolog, before the root element.
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise InputFileError(
                            f"{path}: refused to read this XLSX because its part {info.filename} "
                            "declares a DTD or entities, which can expand without bound or read "
                            "other files; save the workbook again from Excel or LibreOffice"
                        )
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, zlib.error) as exc:
        # a damaged archive fails in many ways: a bad offset (OSError), an unknown compression...
        raise InputFileError(f"{path}: not a readable XLSX file (not a ZIP archive, or truncated: "
                             f"{type(exc).__name__})") from None


def _open_sheet(ws, path: Path, header_row: int | None) -> _Sheet | None:
    """The header of a sheet (None when the sheet is empty)."""

    rows = ws.iter_rows(values_only=True)
    head = list(islice(rows, max(SCAN_ROWS, header_row or 0)))
    if not any(r and any(v is not None for v in r) for r in head):
        return None
    h = find_header(head, f"{path}, sheet {ws.title!r}", header_row)
    raw = list(head[h])
    while raw and raw[-1] is None:  # cells right of the table (read-only sheets pad rows)
        raw.pop()
    names, notes = clean_names(raw, str(path))
    return _Sheet(ws.title, names, notes, h + 1, title_lines(head[:h]), rows, head[h + 1:])


def open_xlsx(path: Path, sheet: str | None, sheets=None, header_row: int | None = None):
    """A Source of one sheet (`sheet`), of the sheets listed in `sheets`, or, by default, of every
    sheet when all have the same header (else the first). `sheets='all'` requires the same header."""
    import openpyxl


    check_xlsx_archive(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise InputFileError(f"{path}: not a readable XLSX file ({type(exc).__name__}: {exc})") from None
    try:
        if sheet is not None and sheets is not None:
            raise MappingError(f"{path}: give either sheet (one sheet) or sheets (several), not both")
        names = [sheet] if sheet is not None else (list(sheets) if isinstance(sheets, list | tuple) else wb.sheetnames)
        for name in names:
            if name not in wb.sheetnames:
                raise MappingError(f"{path}: there is no sheet {name!r}; the workbook has: {', '.join(wb.sheetnames)}")
        opened = [(name, _open_sheet(wb[name], path, header_row)) for name in names]
        empty = [name for name, s in opened if s is None]
        found = [s for _, s in opened if s is not None]
        if not found:
            raise InputFileError(f"{path}: the sheet {names[0]!r} is empty; the log has no rows")
        notes: list[str] = []
        first = found[0]
        differ = [s for s in found[1:] if s.names != first.names]
        if differ and (sheets == "all" or isinstance(sheets, list | tuple)):
            s = differ[0]
            raise MappingError(
                f"{path}: the sheet {s.title!r} has another header than {first.title!r} "
                f"({', '.join(s.names)} against {', '.join(first.names)}); read the sheets one by one "
                "with sheet: NAME, or list the sheets that share a header under sheets:"
            )
        if differ:
            notes.append(f"only the first sheet {first.title!r} was read: the sheets "
                         f"{', '.join(repr(s.title) for s in differ)} have another header (list the sheets to read under sheets:)")
            found = [first]
        if empty:
            notes.append(f"empty sheet(s) not read: {', '.join(map(repr, empty))}")
        table = _read_sheets(path, found, notes)
    finally:
        wb.close()
    return Source(str(path), "xlsx", first.names, iter([table.batch] if table.numbers else []), "",
                  table.details, rows=table.numbers, hash_path=str(path), sheet_refs=table.refs)


@dataclass
class _Table:
    batch: pa.RecordBatch
    numbers: list[int]
    details: dict
    refs: SheetRefs | None


def _read_sheets(path: Path, found: list[_Sheet], notes: list[str]) -> _Table:
    names = found[0].names
    width = len(names)
    columns: list[list] = [[] for _ in range(width)]
    numbers: list[int] = []
    sheet_idx: list[int] = []
    sheet_rows: list[int] = []
    offset = 0
    for k, s in enumerate(found):
        notes.extend(s.notes if k == 0 else [])
        last = 0
        number = 0
        try:
            rows = iter(s.head_rest) if s.rows is None else _chain(s.head_rest, s.rows)
            for number, row in enumerate(rows, start=1):
                if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                    continue  # a blank sheet row is no record; numbering still follows the sheet
                if len(row) > width and any(v is not None for v in row[width:]):
                    notes.append(f"{_at(found, s)}row {number} has values right of the last named column; they are not read")
                for i in range(width):
                    columns[i].append(row[i] if i < len(row) else None)
                numbers.append(offset + number)
                sheet_idx.append(k)
                sheet_rows.append(s.header_row + number)
                last = number
        except Exception as exc:
            raise InputFileError(
                f"{path}, sheet {s.title!r}, sheet row {s.header_row + number}: cannot read the sheet from "
                f"here on ({type(exc).__name__}: {exc}); the file may be damaged"
            ) from None
        offset += last
    uncached = _uncached_formulas(path, found, columns, sheet_idx, sheet_rows)
    if uncached:
        shown = ", ".join(f"{where} column {c!r}" for where, c in uncached[:20])
        more = f" and {len(uncached) - 20:,} more" if len(uncached) > 20 else ""
        notes.append(f"{len(uncached):,} cell(s) hold a formula without a computed value ({shown}{more}); they "
                     "are read as empty. The workbook was saved without calculating (e.g. by a script): open "
                     "it in Excel or LibreOffice and save it again")
    arrays = []
    for name, values in zip(names, columns, strict=True):
        arr, mixed = xlsx_column(values)
        if mixed:
            notes.append(f"column {name!r} mixes value types (dates, numbers, text); read as text")
        arrays.append(arr)
    batch = pa.RecordBatch.from_arrays(arrays, names=names)
    details: dict = {"format": "xlsx"}
    if len(found) == 1:
        s = found[0]
        details["sheet"] = s.title
        details["row_numbers"] = f"sheet row minus {s.header_row} (the header is sheet row {s.header_row})"
    else:
        details["sheets"] = [s.title for s in found]
        details["row_numbers"] = ("data rows counted through the sheets in order (sheet row minus the header "
                                  "row, plus the rows of the sheets before); sopaudit:sheet and "
                                  "sopaudit:sheet_row say where each event stands")
    if any(s.header_row != 1 for s in found):
        details["header_row"] = {s.title: s.header_row for s in found}
    titles = {s.title: s.title_lines for s in found if s.title_lines}
    if titles:
        details["title"] = titles
    if notes:
        details["notes"] = notes
    refs = None
    if len(found) > 1:
        refs = SheetRefs([s.title for s in found], np.asarray(numbers, np.int64),
                         np.asarray(sheet_idx, np.int32), np.asarray(sheet_rows, np.int64))
    return _Table(batch, numbers, details, refs)


def _uncached_formulas(path: Path, found: list[_Sheet], columns: list[list], sheet_idx: list[int],
                       sheet_rows: list[int]) -> list[tuple[str, str]]:
    """(where, column) of the cells read as empty that hold a formula: data_only reads a formula's
    last computed value, which a workbook written by a script may not have."""
    with zipfile.ZipFile(path) as zf:
        parts = [n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(b"<f" in zf.read(n) for n in parts):
            return []
    import openpyxl

    at = {(k, r): i for i, (k, r) in enumerate(zip(sheet_idx, sheet_rows, strict=True))}
    names = found[0].names
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        out = []
        for k, s in enumerate(found):
            for r, row in enumerate(wb[s.title].iter_rows(min_row=s.header_row + 1, values_only=True),
                                    start=s.header_row + 1):
                i = at.get((k, r))
                if i is None or row is None:
                    continue
                for c, name in enumerate(names[: len(row)]):
                    v = row[c]
                    if isinstance(v, str) and v.startswith("=") and columns[c][i] is None:
                        where = f"row {r - s.header_row}" if len(found) == 1 else f"{s.title}!R{r}"
                        out.append((where, name))
        return out
    finally:
        wb.close()


def _chain(first: list, rest):
    yield from first
    yield from rest


def _at(found: list[_Sheet], s: _Sheet) -> str:
    return f"sheet {s.title!r}, " if len(found) > 1 else ""


def xlsx_column(values: list) -> tuple[pa.Array, bool]:
    """An Arrow array of one column's cells, typed when they share a type (else text), and
    whether it mixed types."""
    present = [v for v in values if v is not None]
    types = {type(v) for v in present}
    if types and types <= {dt.datetime}:
        return pa.array(values, pa.timestamp("us")), False
    if types and types <= {int}:  # integer cells stay integers (ids, counts)
        return pa.array(values, pa.int64()), False
    if types and types <= {int, float}:
        return pa.array([float(v) if v is not None else None for v in values], pa.float64()), False
    if types and types <= {bool}:
        return pa.array(values, pa.bool_()), False
    text = [None if v is None else (v if isinstance(v, str) else _cell_text(v)) for v in values]
    # time-of-day cells (a Jam column) are text like '08:15:00', not a mix
    return pa.array(text, pa.string()), len(types - {str, dt.time}) > 0


def _cell_text(v) -> str:
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
