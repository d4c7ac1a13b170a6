"""Reform evaluation: did conformance and service times change between two audits, where, and
is it more than chance. `compare` (changes.py) builds a `Comparison` from two AuditResults;
`segment_table` (segments.py) breaks findings down by an attribute; `monthly_trend` (trend.py);
`indicator_sheet` (indicators.py); the tests used are in stats.py; write.py writes the files."""

from sopaudit.reform.changes import Comparison, compare
from sopaudit.reform.segments import segment_table
from sopaudit.reform.trend import monthly_trend

__all__ = ["Comparison", "compare", "monthly_trend", "segment_table"]
