"""sopaudit: audit how a public service is really delivered against its written SOP."""

from __future__ import annotations

__version__ = "0.1.0"

from .conform.audit import audit  # noqa: E402
from .errors import SopAuditError  # noqa: E402
from .ingest import read_log  # noqa: E402
from .result import AuditResult  # noqa: E402
from .sop import load_sop  # noqa: E402

__all__ = ["AuditResult", "SopAuditError", "__version__", "audit", "load_sop", "read_log"]
