"""The event log: a pandas DataFrame with pm4py column names, and the metadata beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports core at start-up, before pandas is needed
    import pandas as pd

CASE = "case:concept:name"
ACTIVITY = "concept:name"
TIME = "time:timestamp"
START = "start_timestamp"
RESOURCE = "org:resource"
LIFECYCLE = "lifecycle:transition"
ROW = "sopaudit:row"  # source row number (1-based data row of the input file)
LABEL = "sopaudit:label"  # the activity label as recorded, before mapping to SOP step ids
START_ROW = "sopaudit:start_row"  # source row of the lifecycle start paired with this event
SHEET = "sopaudit:sheet"  # workbook read from several sheets: the sheet of the event's row
SHEET_ROW = "sopaudit:sheet_row"  # ... and the row number Excel shows for it
POS = "sopaudit:pos"  # the audit's 0-based position of the event in its case

INFO_KEY = "sopaudit"


@dataclass(frozen=True)
class LogInfo:
    """Where a log came from and how it was read; travels in `DataFrame.attrs['sopaudit']`."""

    path: str = ""
    sha256: str = ""
    tz: str = ""
    mapping: dict = field(default_factory=dict)
    rows_read: int = 0
    rejected: tuple = ()  # (row, reason) pairs of rows that could not become events
    quality: dict = field(default_factory=dict)  # the data-quality report (docs/mapping.md)
    source: dict = field(default_factory=dict)  # how the file was read: format, encoding, sheet...
    # case ids of rejected rows that had one: the evidence of these cases is incomplete
    rejected_cases: tuple = ()

    def __deepcopy__(self, memo) -> LogInfo:
        # pandas deep-copies `attrs` on every slice of a log (hundreds of thousands of copies in
        # one audit); the info is frozen and never mutated after reading, so sharing it is safe.
        return self


def log_info(log: pd.DataFrame) -> LogInfo:
    """The LogInfo of a log read by sopaudit, or an empty one for a DataFrame built by hand."""
    info = log.attrs.get(INFO_KEY)
    return info if isinstance(info, LogInfo) else LogInfo(rows_read=len(log))
