"""sopaudit: audit how a public service is really delivered against its written SOP.

The public API is imported on first use (PEP 562), so `import sopaudit` and the command line
start without loading pandas, pm4py or matplotlib until a function needs them.
"""

from __future__ import annotations

from sopaudit.core.lazy import lazy_names

__version__ = "0.1.0"

_API = {
    "AuditResult": "sopaudit.auditing.result",
    "SopAuditError": "sopaudit.core.errors",
    "WorkingCalendar": "sopaudit.calendar.workdays",
    "audit": "sopaudit.auditing.run",
    "compare": "sopaudit.reform.changes",
    "discover": "sopaudit.discovery.processmap",
    "load_sop": "sopaudit.sop.load",
    "read_log": "sopaudit.ingest.read",
    "read_verification": "sopaudit.verification.estimate",
    "run_batch": "sopaudit.batch.driver",
    "simulate": "sopaudit.simulation.engine",
    "verification_sample": "sopaudit.verification.sample",
}

__all__ = sorted([*_API, "__version__"])

__getattr__, __dir__ = lazy_names(__name__, _API)
