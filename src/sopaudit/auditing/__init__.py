"""The audit as a whole: `audit` runs conformance, time and role checks over one log and SOP
(`run`) and returns an `AuditResult` (`result`), which writes the report."""

from sopaudit.auditing.result import AuditResult, CaseView
from sopaudit.auditing.run import audit

__all__ = ["AuditResult", "CaseView", "audit"]
