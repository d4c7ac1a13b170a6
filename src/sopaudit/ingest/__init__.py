"""Ingest: read service-system exports into the canonical event log, with a quality report.

`read_log` reads CSV, XLSX, Parquet, XES and SQL sources (readers.py, csvfile.py, xlsxfile.py with
the header found under a title block by header.py) under a column mapping (mapping.py), turns a
rekap (one row per application, a date per step) or a date and a time column into one row per
event (wide.py, daytime.py), reads times (timestamps.py), pairs lifecycle halves (lifecycle.py),
builds the log (columns.py, build.py) and its data-quality report (quality.py). `suggest_mapping`
proposes a mapping (suggest.py, suggest_wide.py for rekaps); `write_log` writes the canonical log
(write.py).
"""


from __future__ import annotations

from sopaudit.core.lazy import lazy_names

# Imported on first use (PEP 562): these need pandas, while xmlsafe (used by the PNML and BPMN
# readers of sopaudit.sop) does not, and `sopaudit sop validate` should not wait for pandas.
_API = {
    "Mapping": "sopaudit.ingest.mapping",
    "load_mapping": "sopaudit.ingest.mapping",
    "read_log": "sopaudit.ingest.read",
    "suggest_mapping": "sopaudit.ingest.suggest",
    "write_log": "sopaudit.ingest.write",
    "write_quality": "sopaudit.ingest.write",
}

__all__ = sorted(_API)

__getattr__, __dir__ = lazy_names(__name__, _API)
