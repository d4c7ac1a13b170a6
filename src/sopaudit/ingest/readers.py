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
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sopaudit.core.errors import InputFileError, MappingError
from sopaudit.ingest.source import Source, clean_names
from sopaudit.ingest.xlsxfile import open_xlsx

logger = logging.getLogger(__name__)

KINDS = ("csv", "xlsx", "parquet", "xes", "sql")


def is_sql_url(path: str | Path) -> bool:
    text = str(path)
    return "://" in text.split("?")[0] and not Path(text).exists()


def kind_of(path: str | Path) -> str:
    """The reader for `path`, from its extension (or 'sql' for a database URL)."""
    if is_sql_url(path):
        return "sql"
    if Path(path).is_dir():
        raise InputFileError(f"{path}: this is a folder, not a log file; give the exported file itself "
                             "(.csv, .xlsx, .parquet or .xes)")
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
        ".xes.gz, or a database URL with a query (`query:` in the mapping file, or --query of "
        "`sopaudit ingest`)"
    )


def open_source(path: str | Path, *, sheet: str | None = None, query: str | None = None,
                encoding: str | None = None, newlines_in_values: bool | None = None,
                threads: bool = True, sheets=None, header_row: int | None = None,
                careful: bool = False, block_size: int | None = None) -> Source:
    """Open `path` with the reader its extension names. `encoding`, `newlines_in_values`,
    `threads` and `block_size` force CSV settings (used when a first pass found they must change); `sheets`
    ('all' or a list of names) and `header_row` are for XLSX workbooks (xlsxfile.py)."""
    kind = kind_of(path)
    if kind == "sql":
        if not query:
            raise MappingError(f"{_mask_url(str(path))}: a database URL needs a query; put `query: SELECT ...` in the mapping file (or pass --query 'SELECT ...' to `sopaudit ingest`)")
        return _open_sql(str(path), query)
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: the log file does not exist; check its path")
    if query:
        raise MappingError(f"{path}: --query is for database URLs, not for a {kind.upper()} file")
    if (sheet or sheets or header_row) and kind != "xlsx":
        what = "--sheet" if sheet else "sheets" if sheets else "header_row"
        raise MappingError(f"{path}: {what} is for XLSX files, not for a {kind.upper()} file")
    if kind == "csv":
        from sopaudit.ingest.csvfile import FIRST_BLOCK, open_csv

        return open_csv(path, encoding=encoding, newlines_in_values=newlines_in_values, threads=threads,
                        careful=careful, block_size=block_size or FIRST_BLOCK)
    if kind == "xlsx":
        return open_xlsx(path, sheet, sheets, header_row)
    if kind == "parquet":
        return _open_parquet(path)
    return _open_xes(path)


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

        def connect() -> sqlite3.Connection:
            conn = sqlite3.connect(uri, uri=True)
            # ATTACH DATABASE would open (and create) another file, outside the read-only one
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            conn.set_authorizer(lambda action, *_: sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_ATTACH
                                else sqlite3.SQLITE_OK)
            return conn

        kwargs["creator"] = connect
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
