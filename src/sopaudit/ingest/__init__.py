"""Ingest: read service-system exports into the canonical event log, with a quality report.

`read_log` reads CSV, XLSX, Parquet, XES and SQL sources (readers.py, csvfile.py, xlsxfile.py with
the header found under a title block by header.py) under a column mapping (mapping.py), turns a
rekap (one row per application, a date per step) or a date and a time column into one row per
event (wide.py, daytime.py), reads times (timestamps.py), pairs lifecycle halves (lifecycle.py),
builds the log (columns.py, build.py) and its data-quality report (quality.py). `suggest_mapping`
proposes a mapping (suggest.py, suggest_wide.py for rekaps); `write_log` writes the canonical log
(write.py).
"""

from sopaudit.ingest.mapping import Mapping, load_mapping
from sopaudit.ingest.read import read_log
from sopaudit.ingest.suggest import suggest_mapping
from sopaudit.ingest.write import write_log, write_quality

__all__ = ["Mapping", "load_mapping", "read_log", "suggest_mapping", "write_log", "write_quality"]
