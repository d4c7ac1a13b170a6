"""The careful CSV reader: every physical line accounted for, a broken quote never swallows rows.

pyarrow's reader is fast, but a stray `"` makes it read every following line into one value
until the next `"`, and mixed encodings make it give up on UTF-8 for the whole file. When the
fast read meets a value holding a line break or a byte that is not UTF-8, the file is read again
here, line by line:

- a record is one physical line, unless a quoted value goes on over the next lines. Such a value
  is accepted when it closes within MAX_SPAN_LINES lines and MAX_CELL characters, its closing
  quote ends the value, and the lines it would take in are not rows of the file themselves
  (each with the header's number of fields). Otherwise the quote is broken: the line where it
  opens is rejected (with its line number and the lines it would have taken in) and reading goes
  on at the next line, which is a row again;
- each line is decoded on its own: UTF-8, else cp1252 (else latin-1), and the lines that needed
  another encoding are listed.

Row numbers are the same as the fast reader's (the n-th record after the header, blank lines not
counted), so rows read = rows used + rows rejected, and no event points at a wrong row.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from sopaudit.core.errors import InputFileError

MAX_LINE = 4 << 20  # bytes in one physical line (as the fast reader's block)
MAX_SPAN_LINES = 100  # a value with more lines than this is not an export cell but a broken quote
BATCH_ROWS = 65_536
_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")

# csv's default limit (128 KiB) is below the cell limit the fast reader applies.
csv.field_size_limit(max(csv.field_size_limit(), 4 << 20))


class Lines:
    """Physical lines of a file as (number, text), decoded one by one, with a way to put lines
    back (after a broken quote) and a list of the lines that were not UTF-8."""

    def __init__(self, path: Path, encoding: str):
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        self.fh = opener(path, "rb")
        self.encoding = encoding  # "utf-8": per line, with cp1252 for the lines that are not
        self.number = 0
        self.back: list[tuple[int, str]] = []
        self.pending: list[bytes] = []
        self.other: list[int] = []  # the first lines read in another encoding than UTF-8
        self.n_other = 0
        self.utf8 = 0  # lines with characters beyond ASCII that are UTF-8

    def close(self) -> None:
        self.fh.close()

    def _decode(self, raw: bytes, number: int) -> str:
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if self.encoding != "utf-8":
            return raw.decode(self.encoding, errors="replace")
        try:
            text = raw.decode("utf-8")
            if not raw.isascii():
                self.utf8 += 1
            return text
        except UnicodeDecodeError:
            self.n_other += 1
            if len(self.other) < 1000:
                self.other.append(number)
            try:
                return raw.decode("cp1252")
            except UnicodeDecodeError:
                return raw.decode("latin-1")

    def next(self) -> tuple[int, str] | None:
        if self.back:
            return self.back.pop()
        if not self.pending:
            try:
                raw = self.fh.readline(MAX_LINE + 1)
            except (OSError, EOFError) as exc:
                raise InputFileError(f"{self.fh.name}, line {self.number + 1}: the file ends early or cannot be "
                                     f"read ({exc}); a compressed file may be truncated; export it again") from None
            if not raw:
                return None
            if len(raw) > MAX_LINE:
                raise InputFileError(
                    f"{self.fh.name}, line {self.number + 1}: a single record is longer than {MAX_LINE >> 20} MiB; "
                    "an export row is never that long (a binary file?). Fix or cut that line and read again.")
            # a lone CR ends a line too (as for the fast reader)
            self.pending = [p for p in _LONE_CR.split(raw) if p] if b"\r" in raw[:-2] else [raw]
            self.pending.reverse()
        self.number += 1
        return self.number, self._decode(self.pending.pop(), self.number)

    def push_back(self, lines: list[tuple[int, str]]) -> None:
        self.back.extend(reversed(lines))


def _fields(text: str, delimiter: str) -> list[str]:
    """The fields of one line read alone (an open quote runs to the end of the line)."""
    if '"' not in text:
        return text.rstrip("\r\n").split(delimiter)
    return next(csv.reader([text.rstrip("\r\n")], delimiter=delimiter), [])


def _record(lines: Lines, first: tuple[int, str], delimiter: str, width: int | None, max_cell: int
            ) -> tuple[list[str] | None, list[tuple[int, str]], str | None]:
    """The fields of the record that starts at `first`, the physical lines it took, and the
    reason it is broken (None when it is not)."""
    number, text = first
    if '"' not in text:
        return text.rstrip("\r\n").split(delimiter), [first], None
    taken = [first]
    size = [len(text)]

    def feed() -> Iterator[str]:
        yield text
        while len(taken) < MAX_SPAN_LINES and size[0] <= max_cell:
            nxt = lines.next()
            if nxt is None:
                return
            taken.append(nxt)
            size[0] += len(nxt[1])
            yield nxt[1]

    try:
        fields = next(csv.reader(feed(), delimiter=delimiter, strict=True), [])
        error = None
    except csv.Error as exc:
        fields, error = None, str(exc)
    if len(taken) == 1:
        # one line: read as the fast reader does (a quote not at the start of a value is text)
        return (fields if error is None else _fields(text, delimiter)), taken, None
    last = taken[-1][0]
    if error is not None:
        if len(taken) >= MAX_SPAN_LINES or size[0] > max_cell:
            why = f"is not closed within {MAX_SPAN_LINES} lines or {max_cell:,} characters"
        elif "end of data" in error:
            why = "is never closed (the file ends inside it)"
        else:
            why = f"closes on line {last} but does not end the value there"
    elif width is not None and all(len(_fields(t, delimiter)) == width for _, t in taken[1:]):
        why = f"would take in lines {number + 1}-{last}, which are rows of the file themselves"
    else:
        return fields, taken, None
    return None, taken, why


MAX_KEPT = 100_000  # unreadable rows whose fields are kept to name their case


def keep_fields(kept: dict[int, list[str]], row: int, text: str, delimiter: str, width: int) -> None:
    """Keep the fields of an unreadable row (cut to the header's width and 200 characters each):
    its case id marks that case's evidence as incomplete."""
    if len(kept) < MAX_KEPT:
        kept[row] = [f[:200] for f in _fields(text, delimiter)[:width]]


def read_records(path: Path, encoding: str, delimiter: str, names: list[str], max_cell: int,
                 invalid: list[tuple[int, str]], details: dict, invalid_fields: dict[int, list[str]] | None = None
                 ) -> Iterator[pa.RecordBatch]:
    """Record batches of the data rows of a CSV (the header line skipped), filling `invalid`
    with (row, reason); at the end, `details` says which values span several lines and which
    lines were not UTF-8."""
    spans: list[tuple[int, int, int]] = []
    width = len(names)
    lines = Lines(path, encoding)
    columns: list[list[str | None]] = [[] for _ in names]
    row = 0
    header_done = False
    try:
        while (first := lines.next()) is not None:
            if not first[1].strip("\r\n"):
                continue  # blank lines are not records
            fields, taken, broken = _record(lines, first, delimiter, width if header_done else None, max_cell)
            if not header_done:  # the header's names were read by the fast reader
                header_done = True
                lines.push_back(taken[1:] if broken is not None else [])
                continue
            row += 1
            if broken is not None:
                invalid.append((row, f"line {first[0]}: a quote opened in this line {broken}; the line is "
                                     f"skipped and reading goes on at line {first[0] + 1}"))
                lines.push_back(taken[1:])
                if invalid_fields is not None:
                    keep_fields(invalid_fields, row, first[1], delimiter, width)
                continue
            if len(fields) != width:
                invalid.append((row, f"the row has {len(fields)} field(s) but the header has {width}; a "
                                     f"'{_show(delimiter)}' inside an unquoted value, or a cut line"))
                if invalid_fields is not None and len(invalid_fields) < MAX_KEPT:
                    invalid_fields[row] = [f[:200] for f in fields[:width]]  # names the row's case
                continue
            if len(taken) > 1:
                spans.append((row, first[0], taken[-1][0]))
            for i, value in enumerate(fields):
                if len(value) > max_cell:
                    name = names[i]
                    raise InputFileError(
                        f"{path}, row {row} (line {first[0]}): the value in column '{name}' is {len(value):,} "
                        f"characters long; an export cell is never longer than {max_cell >> 20} MiB (a broken "
                        "quote or a binary file?). Fix or remove that row and read again.")
                columns[i].append(value or None)
            if len(columns[0]) >= BATCH_ROWS:
                yield _batch(columns, names)
                columns = [[] for _ in names]
        if columns[0]:
            yield _batch(columns, names)
    finally:
        lines.close()
    _describe(details, spans, lines)


def _describe(details: dict, spans: list[tuple[int, int, int]], lines: Lines) -> None:
    notes = details.setdefault("notes", [])
    if spans:
        shown = "; ".join(f"row {r}: lines {a}-{b}" for r, a, b in spans[:20])
        more = f" and {len(spans) - 20:,} more" if len(spans) > 20 else ""
        notes.append(f"{len(spans):,} row(s) hold a quoted value over several lines ({shown}{more}); "
                     "check that each is one record")
    if lines.other and lines.utf8 == 0:
        details["encoding"] = "cp1252"  # no line needed UTF-8: the file is cp1252 throughout
    elif lines.other:
        details["encoding"] = "utf-8 (some lines cp1252)"
        details["lines_not_utf8"] = {"count": lines.n_other, "lines": lines.other}
        notes.append(f"{lines.n_other:,} line(s) are not UTF-8 and were read as cp1252 (Windows-1252): "
                     f"line {describe_lines(lines.other, lines.n_other)}; the rest of the file is UTF-8. Check those values")
    if not notes:
        details.pop("notes")


def _batch(columns: list[list[str | None]], names: list[str]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([pa.array(c, pa.string()) for c in columns], names=names)


def _show(d: str) -> str:
    return "\\t" if d == "\t" else d


def describe_lines(numbers: list[int], total: int | None = None, limit: int = 20) -> str:
    """'3, 17 and 40' (the first `limit`, then how many more of `total`)."""
    shown = [str(n) for n in numbers[:limit]]
    more = (total if total is not None else len(numbers)) - len(shown)
    text = ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "") + shown[-1] if shown else ""
    return text + (f" (and {more:,} more)" if more else "")
