"""sopaudit: audit how a public service is really delivered against its written SOP."""

from __future__ import annotations

__version__ = "0.1.0"

from .calendar import WorkingCalendar  # noqa: E402
from .conform.audit import audit  # noqa: E402
from .discovery import discover  # noqa: E402
from .errors import SopAuditError  # noqa: E402
from .ingest import read_log  # noqa: E402
from .result import AuditResult  # noqa: E402
from .simulate import simulate  # noqa: E402
from .sop import load_sop  # noqa: E402

__all__ = ["AuditResult", "SopAuditError", "WorkingCalendar", "__version__", "audit", "discover", "load_sop",
           "read_log", "simulate"]
