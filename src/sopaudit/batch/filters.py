"""The plan's `filter:` (a period and/or case-attribute values) as a function of the log."""

from __future__ import annotations

from sopaudit.batch.plan import AuditJob
from sopaudit.core.errors import SopAuditError


def job_filter(job: AuditJob):
    """A function log -> the whole cases that pass the audit's filter, or None without one."""
    if not job.filter:
        return None

    def select(log):
        from sopaudit.discovery.mining import filter_log

        f = job.filter
        view = log
        attribute = f.get("attribute")
        if attribute is not None:
            if attribute not in log.columns:
                raise SopAuditError(f"{job.where}: the filter attribute '{attribute}' is not a column of the log "
                                    f"{job.log}; its columns are {', '.join(map(str, log.columns))}")
            # Plan values are text; compare the column as text so office code 12 matches '12'.
            view = log.assign(**{attribute: log[attribute].astype("string")})
        kept = filter_log(view, start=f.get("from"), end=f.get("to"), attribute=attribute, values=f.get("values"))
        if kept.empty:
            raise SopAuditError(f"{job.where}: no case of {job.log} passes the filter {f}; widen the period or "
                                "check the attribute values")
        return log.loc[kept.index]

    return select
