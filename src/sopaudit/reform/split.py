"""The two audits of a reform evaluation: from two logs, or from one log split at the reform date
(whole cases, by the time of their first event, so no case is cut in two)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sopaudit.auditing.run import audit
from sopaudit.calendar.workdays import WorkingCalendar
from sopaudit.core.columns import CASE, TIME, log_info
from sopaudit.core.errors import SopAuditError
from sopaudit.ingest import read_log
from sopaudit.sop.load import load_sop


def split_log(log: pd.DataFrame, at: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cases that start before `at` (a date, in the log's time zone) and the others."""
    tz = log_info(log).tz or "UTC"
    try:
        moment = pd.Timestamp(at).tz_localize(tz) if pd.Timestamp(at).tzinfo is None else pd.Timestamp(at)
    except (ValueError, TypeError) as exc:
        raise SopAuditError(f"cannot read the split date '{at}' ({exc}); write it as YYYY-MM-DD") from None
    first = log.groupby(CASE, sort=False, observed=True)[TIME].transform("min")
    before, after = log[first < moment], log[first >= moment]
    if before.empty or after.empty:
        span = f"{log[TIME].min()} to {log[TIME].max()}"
        raise SopAuditError(f"splitting at {at} leaves the {'before' if before.empty else 'after'} period empty; "
                            f"the log's cases start from {span}")
    for part in (before, after):
        part.attrs = dict(log.attrs)
    return before, after


def audit_periods(*, before_log: Path | None, after_log: Path | None, one_log: Path | None, split_at: str | None,
                  sop: Path, sop_after: Path | None, mapping: dict, tz: str | None, roles=None, roles_after=None,
                  closures=None):
    """The AuditResults of the two periods and the reform date."""
    sop_a = load_sop(sop)
    sop_b = load_sop(sop_after) if sop_after else sop_a
    if one_log is not None:
        log = read_log(one_log, tz=tz, **mapping)
        log_a, log_b = split_log(log, split_at)
        reform_date = str(pd.Timestamp(split_at).date())
    else:
        log_a, log_b = read_log(before_log, tz=tz, **mapping), read_log(after_log, tz=tz, **mapping)
        reform_date = None

    def calendar(log):
        cal = WorkingCalendar(tz=log_info(log).tz or "Asia/Jakarta")
        return cal.with_closures_file(closures) if closures else cal

    before = audit(log_a, sop_a, calendar=calendar(log_a), roles=roles)
    after = audit(log_b, sop_b, calendar=calendar(log_b), roles=roles_after or roles)
    return before, after, reform_date
