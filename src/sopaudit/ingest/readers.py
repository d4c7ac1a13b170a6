"""Open a service-system export as a stream of Arrow record batches with its raw columns.

One reader per format: CSV (csvfile.py), XES / XES.gz (xes.py), XLSX, Parquet and SQL. Every reader gives
the column names, the batches in source order, the source's row numbers, and what it noticed
about the file (encoding, separator, sheet). Readers never change a value: text stays text, and
typed columns (Parquet, XLSX, SQL, XES) keep their types. Nothing is read but the given file (or
the given database through a read-only connection).
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sopaudit.core.errors import InputFileError, MappingError

logger = logging.getLogger(__name__)

KINDS = ("csv", "xlsx", "parquet", "xes", "sql")
# An XLSX whose parts inflate beyond this, or by more than this ratio, is refused (zip bomb).
XLSX_MAX_BYTES = 2 << 30
XLSX_MAX_RATIO = 200


@dataclass
class Source:
    """An opened export: its columns, batches and row numbers."""

    where: str  # the file path (or database URL without password), for messages
    kind: str
    columns: list[str]
    batches: Iterator[pa.RecordBatch]
    sha256: str  # of the file (computed by the caller from hash_path when empty)
    details: dict = field(default_factory=dict)
    # (data row, reason) of rows the reader could not split into the columns (CSV only)
    invalid: list[tuple[int, str]] = field(default_factory=list)
    # explicit data row numbers of the batch rows, when they are not 1, 2, 3... (XLSX blank rows)
    rows: list[int] | None = None
    hash_path: str | None = None  # the file whose SHA-256 the caller computes (alongside the read)

    def row_numbers(self, n: int) -> np.ndarray:
        """The data row number of each of the `n` rows the batches held, in order."""
        if self.rows is not None:
            return np.asarray(self.rows, dtype=np.int64)
        numbers = np.arange(1, n + len(self.invalid) + 1, dtype=np.int64)
        if self.invalid:
            numbers = np.delete(numbers, np.asarray(sorted(r for r, _ in self.invalid)) - 1)
        return numbers


def is_sql_url(path: str | Path) -> bool:
    text = str(path)
    return "://" in text.split("?")[0] and not Path(text).exists()


def kind_of(path: str | Path) -> str:
    """The reader for `path`, from its extension (or 'sql' for a database URL)."""
    if is_sql_url(path):
        return "sql"
    name = Path(path).name.lower()
    for suffix, kind in ((".xes.gz", "xes"), (".xes", "xes"), (".csv.gz", "csv"), (".csv", "csv"),
                         (".txt", "csv"), (".tsv", "csv"), (".tsv.gz", "csv"), (".xlsx", "xlsx"),
                         (".xlsm", "xlsx"), (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(suffix):
            return kind
    if name.endswith(".xls"):
        raise InputFileError(
            f"{path}: old Excel (.xls) files are not read; open it in Excel or LibreOffice and "
            "save it as .xlsx or CSV"
        )
    raise InputFileError(
        f"{path}: unknown log file type; use .csv (.txt, .tsv, .csv.gz), .xlsx, .parquet, .xes, "
        ".xes.gz, or a database URL with --query"
    )


def open_source(path: str | Path, *, sheet: str | None = None, query: str | None = None,
                encoding: str | None = None, newlines_in_values: bool | None = None,
                threads: bool = True) -> Source:
    """Open `path` with the reader its extension names. `encoding`, `newlines_in_values` and
    `threads` force CSV settings (used when a first pass found they must change)."""
    kind = kind_of(path)
    if kind == "sql":
        if not query:
            raise MappingError(f"{_mask_url(str(path))}: a database URL needs a query; pass --query 'SELECT ...' or put query: in the mapping")
        return _open_sql(str(path), query)
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: the log file does not exist; check the path given to --log")
    if query:
        raise MappingError(f"{path}: --query is for database URLs, not for a {kind.upper()} file")
    if sheet and kind != "xlsx":
        raise MappingError(f"{path}: --sheet is for XLSX files, not for a {kind.upper()} file")
    if kind == "csv":
        from sopaudit.ingest.csvfile import open_csv

        return open_csv(path, encoding=encoding, newlines_in_values=newlines_in_values, threads=threads)
    if kind == "xlsx":
        return _open_xlsx(path, sheet)
    if kind == "parquet":
        return _open_parquet(path)
    return _open_xes(path)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def clean_names(names: list, where: str) -> tuple[list[str], list[str]]:
    """Header names trimmed; empty ones named column_N and repeated ones suffixed _2, _3...
    Returns the names and notes saying what was changed."""
    out: list[str] = []
    notes: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(names, start=1):
        name = "" if raw is None else str(raw).strip()
        if not name:
            name = f"column_{i}"
            notes.append(f"column {i} has no name in the header; called it {name}")
        elif name != str(raw):
            notes.append(f"column {i} name {str(raw)!r} has surrounding spaces; called it {name!r}")
        if name in seen:
            seen[name] += 1
            new = f"{name}_{seen[name]}"
            notes.append(f"column {i} repeats the name {name!r}; called it {new}")
            name = new
        seen.setdefault(name, 1)
        out.append(name)
    return out, notes


# ----------------------------------------------------------------------------- pandas frames


def frame_to_batch(df: pd.DataFrame) -> tuple[pa.RecordBatch, list[str]]:
    """An Arrow batch of a DataFrame from pm4py or SQL; a column of mixed Python types becomes text
    (noted), so no value is lost."""
    arrays, notes = [], []
    for col in df.columns:
        s = df[col]
        try:
            arr = pa.array(s, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            arr = pa.array([None if _missing(v) else str(v) for v in s], pa.string())
            notes.append(f"column {col!r} mixes value types; read as text")
        if pa.types.is_null(arr.type):
            arr = arr.cast(pa.string())
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, names=[str(c) for c in df.columns]), notes


def _missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- XES


def _open_xes(path: Path) -> Source:
    from sopaudit.ingest.xes import read_xes
    from sopaudit.ingest.xes_fast import read_xes_fast

    # rustxes when a scan shows it reads the file exactly as expat does; otherwise one expat pass
    # (DTDs and entities refused, no network).
    fast = read_xes_fast(path)
    batch, notes = fast if fast is not None else read_xes(path)
    details = {"format": "xes", "events": batch.num_rows}
    if notes:
        details["notes"] = notes
    return Source(str(path), "xes", list(batch.schema.names), iter([batch] if batch.num_rows else []),
                  "", details, hash_path=str(path))


# ----------------------------------------------------------------------------- Parquet


def _open_parquet(path: Path) -> Source:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        names = list(pf.schema_arrow.names)
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{path}: not a readable Parquet file ({exc}); the file may be truncated") from None
    cleaned, notes = clean_names(names, str(path))

    def batches() -> Iterator[pa.RecordBatch]:
        done = 0
        try:
            for b in pf.iter_batches(batch_size=1 << 20):
                done += b.num_rows
                yield pa.RecordBatch.from_arrays(b.columns, names=cleaned)
        except (pa.ArrowException, OSError) as exc:
            raise InputFileError(
                f"{path}, row {done + 1}: cannot read the Parquet data from here on ({exc}); "
                "the file may be truncated or damaged"
            ) from None

    details = {"format": "parquet", "row_groups": pf.num_row_groups}
    if notes:
        details["notes"] = notes
    return Source(str(path), "parquet", cleaned, batches(), "", details, hash_path=str(path))


# ----------------------------------------------------------------------------- XLSX


def _check_xlsx_archive(path: Path) -> None:
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
    except zipfile.BadZipFile:
        raise InputFileError(f"{path}: not a readable XLSX file (not a ZIP archive, or truncated)") from None


def _open_xlsx(path: Path, sheet: str | None) -> Source:
    import openpyxl

    _check_xlsx_archive(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on damaged files
        raise InputFileError(f"{path}: not a readable XLSX file ({type(exc).__name__}: {exc})") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise MappingError(f"{path}: there is no sheet {sheet!r}; the workbook has: {', '.join(wb.sheetnames)}")
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputFileError(f"{path}: the sheet {ws.title!r} is empty; the log has no rows")
        names, notes = clean_names(list(header), str(path))
        width = len(names)
        columns: list[list] = [[] for _ in range(width)]
        numbers: list[int] = []
        try:
            for number, row in enumerate(rows, start=1):
                if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                    continue  # a blank sheet row is no record; numbering still follows the sheet
                if len(row) > width and any(v is not None for v in row[width:]):
                    notes.append(f"row {number} has values right of the last named column; they are not read")
                for i in range(width):
                    columns[i].append(row[i] if i < len(row) else None)
                numbers.append(number)
        except Exception as exc:
            raise InputFileError(
                f"{path}, row {len(numbers) + 1}: cannot read the sheet from here on "
                f"({type(exc).__name__}: {exc}); the file may be damaged"
            ) from None
    finally:
        wb.close()
    arrays = []
    for name, values in zip(names, columns, strict=True):
        arr, mixed = _xlsx_column(values)
        if mixed:
            notes.append(f"column {name!r} mixes value types (dates, numbers, text); read as text")
        arrays.append(arr)
    batch = pa.RecordBatch.from_arrays(arrays, names=names)
    details = {"format": "xlsx", "sheet": ws.title,
               "row_numbers": "sheet row minus 1 (the header is sheet row 1)"}
    if notes:
        details["notes"] = notes
    return Source(str(path), "xlsx", names, iter([batch] if numbers else []), "", details,
                  rows=numbers, hash_path=str(path))


def _xlsx_column(values: list) -> tuple[pa.Array, bool]:
    import datetime as dt

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
    return pa.array(text, pa.string()), len(types - {str}) > 0


def _cell_text(v) -> str:
    import datetime as dt

    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ----------------------------------------------------------------------------- SQL


def _mask_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1] if "@" in url else url


def _open_sql(url: str, query: str) -> Source:
    import sqlite3

    import sqlalchemy as sa

    shown = _mask_url(url)
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InputFileError(f"{shown}: not a database URL ({exc}); write e.g. sqlite:///exports/log.db") from None
    kwargs = {}
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database or ""
        if not db or db == ":memory:" or not Path(db).is_file():
            raise InputFileError(f"{shown}: the SQLite database file {db!r} does not exist; check the path in the URL")
        # Read-only at the SQLite level: a mistyped path cannot create a file, a query cannot write.
        uri = f"file:{Path(db).resolve().as_posix()}?mode=ro"
        kwargs["creator"] = lambda: sqlite3.connect(uri, uri=True)
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, ImportError, sa.exc.NoSuchModuleError) as exc:
        raise InputFileError(f"{shown}: cannot use this database ({exc}); install its driver (e.g. psycopg for PostgreSQL)") from None
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            elif engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA query_only = ON")
            df = pd.read_sql_query(sa.text(query), conn)
            conn.rollback()  # nothing is kept from this connection
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
        msg = str(getattr(cause, "orig", cause)).splitlines()[0]
        raise InputFileError(f"{shown}: the query failed ({msg}); check the query and the table names") from None
    finally:
        engine.dispose()
    names, notes = clean_names(list(df.columns), shown)
    df.columns = names
    batch, more = frame_to_batch(df)
    details = {"format": "sql", "query": query, "row_numbers": "position in the query result"}
    if notes or more:
        details["notes"] = notes + more
    digest = hashlib.sha256(f"{shown}\n{query}".encode()).hexdigest()
    return Source(shown, "sql", names, iter([batch] if len(df) else []), digest, details)
