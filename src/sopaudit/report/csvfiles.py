"""The CSV tables of a report: neutralised against formula injection, times as ISO text.

pandas formats tz-aware times one by one (about 10 s per million on this machine) and writes
rows through the csv module one field at a time; here the text of each column is built at once
(`sopaudit.ingest.csvtext`: numpy and Arrow, each distinct value formatted once) and is what
`DataFrame.to_csv` writes (`2024-03-01 19:52:00+07:00` for times), so the full lists of a large
audit are written quickly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sopaudit.ingest.csvtext import csv_chunks, has_fraction
from sopaudit.report.safety import neutralise_frame


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(int(minutes)), 60)
    return f"{sign}{h:02d}:{m:02d}"


def iso_times(s: pd.Series) -> pd.Series:
    """tz-aware times as 'YYYY-MM-DD HH:MM:SS[.ffffff]+HH:MM' in their own zone; NaT -> NA."""
    if s.empty:  # numpy's string functions cannot reduce an empty array (numpy 2.2+)
        return pd.Series([], index=s.index, dtype="string")
    local = s.dt.tz_localize(None)
    utc = s.dt.tz_convert("UTC").dt.tz_localize(None)
    values = local.to_numpy(dtype="datetime64[us]")
    missing = np.isnat(values)
    has_fraction = bool((values[~missing].astype(np.int64) % 1_000_000).any())
    text = np.datetime_as_string(values, unit="us" if has_fraction else "s")
    text = np.char.replace(text.astype(str), "T", " ")
    offsets = ((local - utc) / pd.Timedelta(minutes=1)).fillna(0).astype(np.int64).to_numpy()
    uniq, inverse = np.unique(offsets, return_inverse=True)
    suffix = np.array([_offset_text(m) for m in uniq], dtype=object)[inverse]
    out = pd.Series(np.char.add(text, suffix.astype(str)), index=s.index, dtype="string")
    out[missing] = pd.NA
    return out


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """Write one table as UTF-8 CSV with '\\n' line ends; returns the path. The text is what
    `DataFrame.to_csv` writes, built a column at a time (`sopaudit.ingest.csvtext`)."""
    out = neutralise_frame(df)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype) and has_fraction(out[col]):
            out[col] = iso_times(out[col])  # microseconds; whole seconds are written by csv_chunks
    with open(path, "wb") as fh:
        for chunk in csv_chunks(out):
            fh.write(chunk)
    return Path(path)
