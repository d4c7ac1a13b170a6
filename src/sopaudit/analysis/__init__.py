"""Analysis of an audit's findings: where they concentrate (segments and root causes by officer,
channel, month...: `segments.py`), the measures an audit is compared by (`measures.py`) and the
statistics from scipy and statsmodels (`stats.py`). Used by a single audit's report
(`sopaudit audit --segments`) and by the reform evaluation (`reform/`)."""

from sopaudit.analysis.segments import segment_table

__all__ = ["segment_table"]
