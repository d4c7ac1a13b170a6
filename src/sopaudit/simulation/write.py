"""Write a simulated log, its truth and its officer-role file; byte-identical for the same input.

Compressed files carry no time stamp or file name in their gzip header, so writing the same log
twice gives the same bytes.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, RESOURCE, START, TIME
from sopaudit.core.errors import InputFileError
from sopaudit.simulation.scenario import Scenario, default_scenario
from sopaudit.sop.model import SOP

LOG_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xes", ".xes.gz")
_CHUNK = 500_000


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    name = path.name.lower()
    for s in sorted(allowed, key=len, reverse=True):
        if name.endswith(s):
            return s
    raise InputFileError(f"{path}: cannot tell how to write the {what} from its name; end it in "
                         f"{', '.join(allowed)}")


class _Out:
    """A text file, gzip-compressed without time stamp or name when `gz`."""

    def __init__(self, path: Path, gz: bool):
        self.raw = open(path, "wb")  # noqa: SIM115 - closed in __exit__
        self.gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=6) if gz else None
        self.text = io.TextIOWrapper(self.gz or self.raw, encoding="utf-8", newline="")

    def __enter__(self):
        return self.text

    def __exit__(self, *exc):
        self.text.flush()
        self.text.detach()
        if self.gz is not None:
            self.gz.close()
        self.raw.close()


def write_log(log: pd.DataFrame, path: str | Path) -> Path:
    """Write an event log as .csv, .csv.gz, .parquet, .xes or .xes.gz (by the file name).

    CSV times are ISO 8601 with their UTC offset (`2024-03-04 08:15:00+07:00`), which
    `sopaudit.read_log` reads back tz-aware; XES puts case attributes on the trace.
    """
    path = Path(path)
    suffix = _suffix(path, LOG_SUFFIXES, "log")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        log.to_parquet(path, index=False)
    elif suffix in (".csv", ".csv.gz"):
        with _Out(path, suffix.endswith(".gz")) as fh:
            _write_csv(log, fh)
    else:
        with _Out(path, suffix.endswith(".gz")) as fh:
            _write_xes(log, fh)
    return path


def _write_csv(df: pd.DataFrame, fh) -> None:
    for i, start in enumerate(range(0, max(len(df), 1), _CHUNK)):
        chunk = df.iloc[start:start + _CHUNK]
        times = {c: _iso_text(chunk[c]) for c in chunk.columns if isinstance(chunk[c].dtype, pd.DatetimeTZDtype)}
        chunk.assign(**times).to_csv(fh, index=False, header=(i == 0), lineterminator="\n")


def _iso_text(values: pd.Series) -> pd.Series:
    """'2024-03-04 08:15:00+07:00' for every tz-aware time (what pandas writes, formatted in bulk)."""
    local = values.dt.tz_localize(None)
    offset = ((local - values.dt.tz_convert("UTC").dt.tz_localize(None)).dt.total_seconds()).astype("Int64")
    text = np.datetime_as_string(local.to_numpy("datetime64[ns]").astype("datetime64[s]"), unit="s")
    names = {int(o): f"{'+' if o >= 0 else '-'}{abs(int(o)) // 3600:02d}:{abs(int(o)) % 3600 // 60:02d}"
             for o in offset.dropna().unique()}
    out = pd.Series(np.char.replace(text.astype(str), "T", " "), index=values.index, dtype=object) + \
        offset.map(names).astype(object)
    return out.where(values.notna(), "")


def write_truth(truth: pd.DataFrame, path: str | Path) -> Path:
    """Write the truth table as .csv or .csv.gz."""
    path = Path(path)
    suffix = _suffix(path, (".csv", ".csv.gz"), "truth file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _Out(path, suffix.endswith(".gz")) as fh:
        truth.to_csv(fh, index=False, lineterminator="\n")
    return path


def officer_roles(sop: SOP, scenario: Scenario | None = None) -> pd.DataFrame:
    """Who holds which role in the scenario's offices: officer, role, valid_from, valid_to, office.

    This is the role-assignment file the audit's role check reads. Roles without officers (the
    applicant's own steps) have no rows, as in an office's real decree.
    """
    scenario = scenario if scenario is not None and scenario.offices else default_scenario(sop)
    rows = [(name, role, "", "", office.name) for office in scenario.offices
            for role, names in office.officers for name in names]
    return pd.DataFrame(rows, columns=["officer", "role", "valid_from", "valid_to", "office"])


def write_officers(table: pd.DataFrame, path: str | Path) -> Path:
    """Write the officer-role table (see `officer_roles`) as CSV."""
    path = Path(path)
    _suffix(path, (".csv",), "officer-role file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _Out(path, False) as fh:
        table.to_csv(fh, index=False, lineterminator="\n")
    return path


# ----------------------------------------------------------------------------------------- XES

def _esc(values: pd.Series) -> pd.Series:
    return (values.astype(str).str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
            .str.replace(">", "&gt;", regex=False).str.replace('"', "&quot;", regex=False))


def _xes_time(values: pd.Series) -> pd.Series:
    text = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
    # 2024-03-04T08:15:00.000000+0700 -> 2024-03-04T08:15:00.000+07:00
    return text.str[:23] + text.str[26:29] + ":" + text.str[29:]


def _write_xes(log: pd.DataFrame, fh) -> None:
    fh.write('<?xml version="1.0" encoding="UTF-8" ?>\n'
             '<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">\n'
             '  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
             '  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n'
             '  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>\n')
    if log.empty:
        fh.write("</log>\n")
        return
    cases = log[CASE].astype(str).to_numpy(object)
    starts = np.r_[0, np.flatnonzero(cases[1:] != cases[:-1]) + 1]
    bounds = np.r_[starts, len(log)]
    standard = {CASE, ACTIVITY, TIME, START, RESOURCE}
    extra = [c for c in log.columns if c not in standard]
    # Attributes constant within every case go on the trace, the others on the events.
    case_level = [c for c in extra if (log.groupby(CASE, sort=False, observed=True)[c].nunique(dropna=False) <= 1).all()]
    event_level = [c for c in extra if c not in case_level]
    ev = '    <event>\n      <string key="concept:name" value="' + _esc(log[ACTIVITY]) + '"/>\n'
    if RESOURCE in log:
        ev = ev + '      <string key="org:resource" value="' + _esc(log[RESOURCE]) + '"/>\n'
    ev = ev + '      <date key="time:timestamp" value="' + _xes_time(log[TIME]) + '"/>\n'
    if START in log:
        ev = ev + '      <date key="start_timestamp" value="' + _xes_time(log[START]) + '"/>\n'
    for c in event_level:
        ev = ev + f'      <string key="{c}" value="' + _esc(log[c]) + '"/>\n'
    ev = (ev + "    </event>\n").to_numpy(object)
    first = log.iloc[starts]
    head = '  <trace>\n    <string key="concept:name" value="' + _esc(first[CASE]) + '"/>\n'
    for c in case_level:
        head = head + f'    <string key="{c}" value="' + _esc(first[c]) + '"/>\n'
    head = head.to_numpy(object)
    for i in range(len(starts)):
        fh.write(head[i])
        fh.write("".join(ev[bounds[i]:bounds[i + 1]]))
        fh.write("  </trace>\n")
    fh.write("</log>\n")
