"""The two audits of a reform evaluation: from two logs, or from one log split at the reform date
(whole cases, by the time of their first event, so no case is cut in two)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sopaudit.auditing.files import read_inputs
from sopaudit.auditing.run import audit
from sopaudit.core.columns import CASE, TIME, log_info
from sopaudit.core.errors import SopAuditError
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
    """The AuditResults of the two periods and the reform date; each log is read as `sopaudit
    audit` reads it (auditing.files.read_inputs)."""
    if one_log is not None:
        sop_a, log, _, calendar = read_inputs(one_log, sop, mapping, tz, closures)
        sop_b = load_sop(sop_after) if sop_after else sop_a
        (log_a, log_b), (cal_a, cal_b) = split_log(log, split_at), (calendar, calendar)
        reform_date = str(pd.Timestamp(split_at).date())
    else:
        sop_a, log_a, _, cal_a = read_inputs(before_log, sop, mapping, tz, closures)
        sop_b, log_b, _, cal_b = read_inputs(after_log, sop_after or sop, mapping, tz, closures)
        reform_date = None
    before = audit(log_a, sop_a, calendar=cal_a, roles=roles)
    after = audit(log_b, sop_b, calendar=cal_b, roles=roles_after or roles)
    return before, after, reform_date
