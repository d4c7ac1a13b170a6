"""Reform evaluation: did conformance and service times change between two audits, where, and
is it more than chance. `compare` (changes.py) builds a `Comparison` from two AuditResults, with
the breakdown by segment of `sopaudit.analysis`, the monthly trend (trend.py) and the indicator
sheet (indicators.py); split.py audits two periods; write.py writes the files."""

from sopaudit.reform.changes import Comparison, compare
from sopaudit.reform.trend import monthly_trend

__all__ = ["Comparison", "compare", "monthly_trend"]
