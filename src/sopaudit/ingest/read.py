"""`read_log`: read a service-system export into the canonical event log.

Nothing is dropped silently: a row that cannot become an event (no case id, no activity, an
unreadable time, a broken CSV line) is listed with its row number and reason in the LogInfo in
`DataFrame.attrs['sopaudit']`, beside the data-quality report (docs/mapping.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.ingest.build import build
from sopaudit.ingest.csvfile import Reopen
from sopaudit.ingest.mapping import Mapping, load_mapping, mapping_from_dict
from sopaudit.ingest.readers import open_source
from sopaudit.ingest.source import sha256_file
from sopaudit.ingest.wide import convert, needs_conversion

logger = logging.getLogger(__name__)

__all__ = ["read_log", "sha256_file"]


def read_log(
    path: str | Path,
    *,
    mapping: str | Path | Mapping | dict | None = None,
    case: str | None = None,
    activity: str | None = None,
    time: str | None = None,
    start: str | None = None,
    lifecycle: str | None = None,
    resource: str | None = None,
    sequence: str | None = None,
    time_format: str | None = None,
    tz: str | None = None,
    sheet: str | None = None,
    query: str | None = None,
    labels: str | Path | dict | None = None,
    duplicates: str | None = None,
    strict: bool = False,
    calendar: WorkingCalendar | None = None,
    now: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Read a CSV, XLSX, Parquet, XES(.gz) file or an SQL query into a DataFrame with pm4py columns.

    `mapping` is a mapping YAML file (or a Mapping / dict of the same keys); the keyword arguments
    override it. A mapping with `layout: wide` and `milestones` reads a rekap (one row per
    application, a date column per step); `time: [date column, time column]` joins a date and a
    time of day; XLSX workbooks are read under their title block, all sheets of one header as one
    log (docs/mapping.md). Without a mapping, pm4py's column names or case_id/activity/timestamp/resource
    are used. `path` may be an SQLAlchemy URL (sqlite:///file.db) read with `query`. Times
    without a zone are local times of `tz` (default Asia/Jakarta; WIB/WITA/WIT accepted). The
    source row of every event is in `sopaudit:row`, the recorded label in `sopaudit:label`.
    With `strict`, the first problem (rejected row, duplicate, unmatched lifecycle half,
    unmapped label) raises InputFileError instead of being listed. `calendar` sets the office
    hours the quality report checks; `now` the reference for "in the future".
    """
    base = _base_mapping(mapping)
    label_table = None
    if labels is not None:
        label_table = mapping_from_dict({"labels": labels}).labels
    flags = mapping_from_dict({
        "case": case, "activity": activity, "time": time, "start": start, "lifecycle": lifecycle,
        "resource": resource, "sequence": sequence, "time_format": time_format, "tz": tz,
        "sheet": sheet, "query": query, "duplicates": duplicates,
    })
    given = {k: getattr(flags, k) for k in ("case", "activity", "time", "start", "lifecycle", "resource",
                                            "sequence", "time_format", "tz", "sheet", "query", "duplicates")}
    m = base.merged(**given, labels=label_table)
    settings: dict = {}
    for _ in range(4):  # restarts: encoding, serial parse, larger blocks, line by line
        source = open_source(path, sheet=m.sheet, query=m.query, sheets=m.sheets, header_row=m.header_row,
                             **settings)
        try:
            read_with = m
            if needs_conversion(m):  # a rekap (wide) export, or date and time in two columns
                source, read_with = convert(source, m)
            log = build(source, read_with, strict=strict, calendar=calendar, now=now)
        except Reopen as again:
            logger.info("%s: reading again with %s", path, again.settings)
            settings.update(again.settings)
            continue
        logger.info("%s: %d events, %d rows rejected", path, len(log), len(log.attrs["sopaudit"].rejected))
        return log
    raise RuntimeError(f"{path}: the CSV reader restarted too often")  # pragma: no cover


def _base_mapping(mapping) -> Mapping:
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    if isinstance(mapping, dict):
        return mapping_from_dict(mapping, source="mapping")
    return load_mapping(mapping)
