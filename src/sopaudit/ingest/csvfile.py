"""CSV exports through pyarrow's streaming reader: separator sniffing, encodings, bad rows.

The separator (`,` `;` tab `|`) is chosen from the first lines, the encoding from the bytes
(UTF-8 with or without BOM, else cp1252, else latin-1; a non-UTF-8 byte found late restarts the
read in cp1252). Every value is read as text, so leading zeros and codes stay as written. A row
with the wrong number of fields is skipped and listed with its row number and the reason; a line
too long to be a record, a binary file or a compressed file that ends early is an error naming
the file and the line or row.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import gzip
import io
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from sopaudit.core.errors import InputFileError
from sopaudit.ingest.csvlines import keep_fields
from sopaudit.ingest.source import Source, clean_names

# The longest record read: pyarrow's blocks must hold a whole record. Its streaming reader (for
# compressed files and values over several lines) holds about 30 blocks in flight, so it starts
# with 1 MiB blocks (60 MiB less at the peak than 4 MiB) and reads again with BLOCK_SIZE when a
# record is longer.
BLOCK_SIZE = 4 << 20
FIRST_BLOCK = 1 << 20
RANGE_SIZE = 4 << 20  # the ranges of a file parsed in parallel (see open_csv)
MAX_CELL = 1 << 20  # longest value accepted: an export cell is never this long
HEAD_BYTES = 1 << 20
DELIMITERS = (",", ";", "\t", "|")


class Reopen(Exception):
    """A first pass found that the CSV must be read again with other settings."""

    def __init__(self, **settings):
        self.settings = settings
        super().__init__(settings)


def _is_gz(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _head(path: Path) -> bytes:
    try:
        if _is_gz(path):
            with gzip.open(path, "rb") as fh:
                return fh.read(HEAD_BYTES)
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except (OSError, EOFError) as exc:
        raise InputFileError(f"{path}: cannot read the file ({exc}); a compressed file may be truncated") from None


def guess_encoding(head: bytes) -> str:
    """'utf-8' (BOM or not), else 'cp1252' when it decodes, else 'latin-1' (always decodes)."""
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 3 and len(head) == HEAD_BYTES:
            return "utf-8"  # a character cut by the end of the sample
    try:
        body.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def sniff_delimiter(text: str) -> str:
    """The separator that splits the header and the following lines into the same number (> 1)
    of fields most often; ',' when no candidate splits the header."""
    lines = text.splitlines()[:60]
    if len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut
    best, best_score = ",", (0, 0)
    for d in DELIMITERS:
        rows = _rows(lines, d)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows[1:]) + 1, width)
        if score > best_score:
            best, best_score = d, score
    return best


def _rows(lines, delimiter: str) -> list[list[str]]:
    """The rows the csv module reads from a sample, up to the first it cannot (a huge field)."""
    rows: list[list[str]] = []
    try:
        for row in csv.reader(lines, delimiter=delimiter):
            rows.append(row)
    except csv.Error:
        pass
    return rows


def has_utf8_sequences(data: bytes) -> bool:
    """Whether `data` holds a UTF-8 encoded character beyond ASCII (a lead byte followed by a
    continuation byte): then a byte that is not UTF-8 is a mixed-in line, not a cp1252 file."""
    arr = np.frombuffer(data, np.uint8)
    if arr.size < 2:
        return False
    lead = (arr[:-1] >= 0xC2) & (arr[:-1] <= 0xF4)
    return bool((lead & (arr[1:] >= 0x80) & (arr[1:] <= 0xBF)).any())


def _file_has_utf8(path: Path) -> bool:
    opener = gzip.open if _is_gz(path) else open
    tail = b""
    with opener(path, "rb") as fh:
        while chunk := fh.read(16 << 20):
            if has_utf8_sequences(tail + chunk):
                return True
            tail = chunk[-1:]
    return False


def open_csv(path: Path, encoding: str | None = None, newlines_in_values: bool | None = None,
             threads: bool = True, careful: bool = False, block_size: int = FIRST_BLOCK) -> Source:
    """Open a CSV export for streaming; see the module docstring. A plain file is parsed in
    ranges cut at line ends, two at a time; `threads` False (a first pass found it must) uses
    pyarrow's streaming reader serially. `careful` reads it line by line (csvlines.py): a first
    pass found a value over several lines or mixed encodings."""
    head = _head(path)
    if not head.strip():
        raise InputFileError(f"{path}: the file is empty; the log has no rows")
    if head.startswith(b"PK\x03\x04"):
        raise InputFileError(f"{path}: this is a ZIP archive (an XLSX workbook?), not a CSV text export; "
                             "give it the .xlsx extension or export CSV")
    if head.startswith(b"PAR1"):
        raise InputFileError(f"{path}: this is a Parquet file, not a CSV; give it the .parquet extension")
    if b"\x00" in head:
        line = head[: head.index(b"\x00")].count(b"\n") + 1
        raise InputFileError(f"{path}, line {line}: a NUL byte; this is a binary file, not a CSV text export")
    enc = encoding or guess_encoding(head)
    if encoding is None and enc != "utf-8" and has_utf8_sequences(head):
        enc, careful = "utf-8", True  # mostly UTF-8 with some other lines: decoded line by line
    bom = head.startswith(b"\xef\xbb\xbf")
    text = (head[3:] if bom else head).decode(enc, errors="replace")
    sample = text[:65536]
    delimiter = sniff_delimiter(sample)
    header_rows = _rows(io.StringIO(sample if '"' in text else sample.split("\n", 1)[0]), delimiter)
    if not header_rows:
        raise InputFileError(f"{path}: the file has no header line; the log has no rows")
    names, notes = clean_names(header_rows[0], str(path))
    if newlines_in_values is None:
        # Quoted values with line breaks need pyarrow's slower mode; turn it on when the sample has one.
        newlines_in_values = '"' in text and any(any("\n" in v or "\r" in v for v in r) for r in header_rows[1:])
    invalid: list[tuple[int, str]] = []
    invalid_fields: dict[int, list[str]] = {}
    unnumbered: list = []
    width = len(names)
    details = {"format": "csv", "encoding": ("utf-8-sig" if bom else enc), "delimiter": delimiter}
    if not _ends_with_newline(path, head):
        notes.append("the file does not end with a line break; its last row may be cut")
    if notes:
        details["notes"] = notes
    if careful:
        from sopaudit.ingest.csvlines import read_records

        batches = read_records(path, enc, delimiter, names, MAX_CELL, invalid, details, invalid_fields)
        return Source(str(path), "csv", names, batches, "", details, invalid=invalid, hash_path=str(path),
                      invalid_fields=invalid_fields)

    def reject(data_row: int, text: str | None, fields: int) -> None:
        if text and ("\n" in text or "\r" in text):
            spans_lines.append(data_row)  # a quote took in other lines: read line by line
            return
        reason = (f"the row has {fields} field(s) but the header has {width}; a "
                  f"'{_show(delimiter)}' inside an unquoted value, or a cut line")
        invalid.append((data_row, reason))
        keep_fields(invalid_fields, data_row, text or "", delimiter, width)

    def on_invalid(row) -> str:
        # row.number counts records from 1 with the header as record 1: data row = number - 1.
        # Parsing in parallel does not know it; the read is then done again serially.
        if row.number is None:
            unnumbered.append(row)
        else:
            reject(int(row.number) - 1, row.text, row.actual_columns)
        return "skip"

    read_options = pcsv.ReadOptions(use_threads=threads, block_size=block_size, encoding=enc,
                                    column_names=names, skip_rows=1)
    parse_options = pcsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                      newlines_in_values=newlines_in_values)
    encode: set[str] = set()  # filled by the build before the first batch (Source.encode)

    def convert_options() -> pcsv.ConvertOptions:
        coded = pa.dictionary(pa.int32(), pa.string())
        return pcsv.ConvertOptions(column_types={n: coded if n in encode else pa.string() for n in names},
                                   strings_can_be_null=True, null_values=[""],
                                   quoted_strings_can_be_null=True)

    spans_lines: list = []
    # ranges parsed in parallel: a plain file larger than a few ranges, line breaks only at
    # record ends (a value over several lines is read by the streaming reader or line by line)
    use_ranges = (threads and not newlines_in_values and not _is_gz(path)
                  and path.stat().st_size > 2 * RANGE_SIZE and b"\r" not in head.replace(b"\r\n", b""))

    def parse() -> Iterator[pa.RecordBatch]:
        yield from _batches()
        if unnumbered:  # a bad row in the last block
            raise Reopen(threads=False)

    def parse_range(data: bytes, first: bool) -> tuple[pa.Table, list[tuple[int, str | None, int]]]:
        """One range of whole lines, parsed alone; its bad rows with their numbers in the range."""
        bad: list[tuple[int, str | None, int]] = []

        def on_bad(row) -> str:
            bad.append((row.number, row.text, row.actual_columns))
            return "skip"

        options = pcsv.ReadOptions(use_threads=False, block_size=max(block_size, len(data)), encoding=enc,
                                   column_names=names, skip_rows=1 if first else 0)
        table = pcsv.read_csv(pa.py_buffer(data), read_options=options, convert_options=convert_options(),
                              parse_options=pcsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_bad))
        return table, bad

    def ranges() -> Iterator[pa.RecordBatch]:
        # pyarrow's streaming reader parses one block at a time: ranges of the file cut at line
        # ends are parsed two at a time instead, and handed over in file order with the numbers
        # of their bad rows made the file's.
        before = 0  # records (rows read and rows skipped) of the ranges handed over
        with open(path, "rb") as fh, ThreadPoolExecutor(2, thread_name_prefix="sopaudit-csv") as pool:
            pending: collections.deque = collections.deque()
            rest, first, end = b"", True, False
            while not end or pending:
                while not end and len(pending) < 3:
                    chunk = fh.read(RANGE_SIZE)
                    data = rest + chunk
                    cut = data.rfind(b"\n") + 1 if chunk else len(data)
                    end = not chunk
                    if cut == 0 and len(data) > BLOCK_SIZE:
                        raise Reopen(threads=False)  # no line end for 4 MiB: the streaming reader judges it
                    rest = data[cut:]
                    if cut:
                        pending.append((pool.submit(parse_range, data[:cut], first), first))
                        first = False
                if not pending:
                    break
                future, has_header = pending.popleft()
                table, bad = future.result()
                for number, text, fields in bad:
                    if number is None:
                        raise Reopen(threads=False)
                    reject(before + int(number) - (1 if has_header else 0), text, fields)
                before += table.num_rows + len(bad)
                yield from table.to_batches()

    def _batches() -> Iterator[pa.RecordBatch]:
        done = 0
        try:
            if use_ranges:
                for batch in ranges():
                    done += batch.num_rows
                    yield batch
                return
            # plain reads (no memory map): pages of the file never count as this process's memory
            stream = pa.OSFile(str(path), "r")
            if _is_gz(path):
                stream = pa.CompressedInputStream(stream, "gzip")
            reader = pcsv.open_csv(stream, read_options=read_options, parse_options=parse_options,
                                   convert_options=convert_options())
            for batch in reader:
                if unnumbered:
                    raise Reopen(threads=False)
                done += batch.num_rows
                yield batch
        except pa.ArrowInvalid as exc:
            msg = str(exc)
            if "invalid UTF8" in msg and enc == "utf-8":
                # mostly UTF-8 with a few other lines: line by line; else a cp1252 file
                raise (Reopen(careful=True) if _file_has_utf8(path) else Reopen(encoding="cp1252")) from None
            if "straddling" in msg or "block size" in msg:
                line = _long_line(path)
                if line is None and block_size < BLOCK_SIZE:
                    raise Reopen(block_size=BLOCK_SIZE) from None  # a record over the first blocks
                if line is None:
                    raise Reopen(careful=True) from None  # an open quote running on: line by line
                raise InputFileError(
                    f"{path}, line {line}: a single record is longer than {BLOCK_SIZE >> 20} MiB; an "
                    "export row is never that long (a binary file?). Fix or cut that line and read again."
                ) from None
            # e.g. "parser got out of sync with chunker" (a quote opened late in a block): the
            # careful reader accounts for every line and names the broken one
            raise Reopen(careful=True) from None
        except (OSError, EOFError) as exc:
            raise InputFileError(
                f"{path}, row {done + len(invalid) + 1}: the file ends early or cannot be read ({exc}); "
                "a compressed file may be truncated; export it again"
            ) from None

    def checked(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        # the checks of a batch run in the caller's thread, while the next batches are parsed
        done = 0
        try:
            for batch in batches:
                if spans_lines or _has_line_break(batch):
                    raise Reopen(careful=True)
                _check_cells(path, batch, done, invalid)
                done += batch.num_rows
                yield batch
            if spans_lines:  # found in the last rows
                raise Reopen(careful=True)
        finally:
            batches.close()  # stops the parsing thread

    return Source(str(path), "csv", names, checked(prefetch(parse())), "", details, invalid=invalid,
                  hash_path=str(path), invalid_fields=invalid_fields, encode=encode)


def prefetch(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """Parse the next batches in a background thread while the caller works on the current one
    (pyarrow releases the GIL while parsing). Errors reach the caller in order."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for b in batches:
                while not stop.is_set():
                    try:
                        items.put(b, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            items.put(exc)

    thread = threading.Thread(target=work, name="sopaudit-csv", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                items.get(timeout=0.1)
        thread.join()


def _check_cells(path: Path, batch: pa.RecordBatch, done: int, invalid: list[tuple[int, str]]) -> None:
    """Refuse a value longer than MAX_CELL, naming its row and column."""
    for name, col in zip(batch.schema.names, batch.columns, strict=True):
        longest = pc.max(pc.binary_length(_values(col))).as_py()
        if longest is None or longest <= MAX_CELL:
            continue
        if pa.types.is_dictionary(col.type):
            col = col.cast(pa.string())
        at = int(np.flatnonzero(pc.fill_null(pc.greater(pc.binary_length(col), MAX_CELL), False))[0])
        row = done + at + 1
        for bad in sorted(r for r, _ in invalid):  # skipped rows keep their numbers
            if bad <= row:
                row += 1
        raise InputFileError(
            f"{path}, row {row}: the value in column '{name}' is {longest:,} bytes long; an export "
            f"cell is never longer than {MAX_CELL >> 20} MiB (a broken quote or a binary file?). "
            "Fix or remove that row and read again."
        )


def _has_line_break(batch: pa.RecordBatch) -> bool:
    """Whether a value holds a line break: a quoted value went on over several lines, which the
    careful reader checks (a stray quote must not swallow rows)."""
    for col in batch.columns:
        col = _values(col)
        data = col.buffers()[2] if col.type in (pa.string(), pa.large_string()) else None
        # the raw characters of the column at once: memchr speed, no per-value work
        raw = bytes(data) if data is not None else b""
        if b"\n" in raw or b"\r" in raw:
            return True
    return False


def _values(col: pa.Array) -> pa.Array:
    """The text of a column: its distinct values when it is dictionary-encoded."""
    return col.dictionary if pa.types.is_dictionary(col.type) else col


def _show(d: str) -> str:
    return "\\t" if d == "\t" else d


def _long_line(path: Path) -> int | None:
    """The 1-based number of the first physical line longer than BLOCK_SIZE (scanned in chunks),
    None when there is none."""
    opener = gzip.open if _is_gz(path) else open
    line, length = 1, 0
    with opener(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            nl = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
            if nl.size == 0:
                length += len(chunk)
                if length > BLOCK_SIZE:
                    return line
                continue
            if length + nl[0] > BLOCK_SIZE:
                return line
            long = np.flatnonzero(np.diff(nl) - 1 > BLOCK_SIZE)
            if long.size:
                return line + 1 + int(long[0])
            line += int(nl.size)
            length = len(chunk) - int(nl[-1]) - 1
            if length > BLOCK_SIZE:
                return line
    return line if length > BLOCK_SIZE else None


def _ends_with_newline(path: Path, head: bytes) -> bool:
    if len(head) < HEAD_BYTES:
        return head.endswith((b"\n", b"\r"))
    if _is_gz(path):
        return True  # not worth decompressing the whole file to look at its last byte
    with open(path, "rb") as fh:
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")
