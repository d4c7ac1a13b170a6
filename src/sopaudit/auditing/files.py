"""`audit_files`: one audit from files to a report folder, as `sopaudit audit` and each audit of
`sopaudit batch` run it (read the log, load the SOP, audit, write the report and the ingest's
data-quality files beside it). `read_inputs` and `write_outputs` are its two halves, for the
batch's partitioned audits of one large log."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sopaudit.analysis.segments import segment_table
from sopaudit.auditing.result import AuditResult
from sopaudit.auditing.run import audit
from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.core.columns import LogInfo, log_info
from sopaudit.ingest import read_log
from sopaudit.sop.load import load_sop
from sopaudit.sop.model import SOP


def read_inputs(log_path, sop_path, mapping: dict | None = None, tz: str | None = None, closures=None,
                cuti_bersama_working: bool = False, select: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                ) -> tuple[SOP, pd.DataFrame, LogInfo, WorkingCalendar]:
    """The SOP, the log (the rows `select` keeps), how it was read, and the office calendar."""
    sop = load_sop(sop_path)  # first: an SOP error is cheap to find, a large log is not
    log = read_log(log_path, tz=tz, **(mapping or {}))
    info = log_info(log)
    if select is not None:
        log = select(log)
    calendar = WorkingCalendar(tz=info.tz or "Asia/Jakarta", cuti_bersama_working=cuti_bersama_working)
    if closures is not None:
        calendar = calendar.with_closures_file(closures)
    return sop, log, info, calendar


def write_outputs(result: AuditResult, info: LogInfo, out, formats=None, lang: str = "id") -> dict[str, Path]:
    """The report files, with the data-quality report and unreadable rows of the log as read (`info`:
    for a partitioned audit, the whole log's), all or nothing (report.write_report)."""
    whole = dataclasses.replace(result, quality=info.quality, rejected=list(info.rejected))
    return whole.write(out, formats=formats, lang=lang)  # None: every format


def audit_files(log_path, sop_path, out, mapping: dict | None = None, tz: str | None = None, lang: str = "id",
                formats=None, closures=None, cuti_bersama_working: bool = False,
                select: Callable[[pd.DataFrame], pd.DataFrame] | None = None, segments_by: tuple[str, ...] = (),
                **options) -> tuple[AuditResult, dict[str, Path]]:
    """Read, audit and write the report into `out`; returns the result and the files written.

    `mapping` holds read_log's keywords (case, activity, time, resource, mapping, strict,
    query); `select` (optional) picks the rows to audit from the log as read (a period, an
    office); `segments_by` names attributes to break the findings down by (segments.csv and a
    report section); `options` go to `sopaudit.audit` unchanged."""
    sop, log, info, calendar = read_inputs(log_path, sop_path, mapping, tz, closures, cuti_bersama_working, select)
    result = audit(log, sop, calendar=calendar, **options)
    if segments_by:
        result.segments = segment_table(result, segments_by)
    return result, write_outputs(result, info, out, formats, lang)
