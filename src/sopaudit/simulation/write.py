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
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.core.columns import ACTIVITY, CASE, RESOURCE, START, TIME
from sopaudit.core.errors import InputFileError
from sopaudit.ingest.csvtext import by_distinct, csv_chunks, iso_times, text_bytes
from sopaudit.simulation.scenario import Scenario, default_scenario
from sopaudit.sop.model import SOP

LOG_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".xes", ".xes.gz")


def _suffix(path: Path, allowed: tuple[str, ...], what: str) -> str:
    name = path.name.lower()
    for s in sorted(allowed, key=len, reverse=True):
        if name.endswith(s):
            return s
    raise InputFileError(f"{path}: cannot tell how to write the {what} from its name; end it in "
                         f"{', '.join(allowed)}")


class _Out:
    """A text file, gzip-compressed without time stamp or name when `gz`; `binary` gives the byte
    stream instead."""

    def __init__(self, path: Path, gz: bool, binary: bool = False):
        self.raw = open(path, "wb")  # noqa: SIM115 - closed in __exit__
        self.gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=6) if gz else None
        self.text = None if binary else io.TextIOWrapper(self.gz or self.raw, encoding="utf-8", newline="")

    def __enter__(self):
        return self.text if self.text is not None else (self.gz or self.raw)

    def __exit__(self, *exc):
        if self.text is not None:
            self.text.flush()
            self.text.detach()
        elif self.gz is not None:
            self.gz.flush()  # as the text layer does: the same compressed bytes either way
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
        with _Out(path, suffix.endswith(".gz"), binary=True) as fh:
            for chunk in csv_chunks(log):
                fh.write(chunk)
    else:
        with _Out(path, suffix.endswith(".gz"), binary=True) as fh:
            _write_xes(log, fh)
    return path


def write_truth(truth: pd.DataFrame, path: str | Path) -> Path:
    """Write the truth table as .csv or .csv.gz."""
    path = Path(path)
    suffix = _suffix(path, (".csv", ".csv.gz"), "truth file")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _Out(path, suffix.endswith(".gz"), binary=True) as fh:
        for chunk in csv_chunks(truth):
            fh.write(chunk)
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

_XES_HEAD = ('<?xml version="1.0" encoding="UTF-8" ?>\n'
             '<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">\n'
             '  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
             '  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n'
             '  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>\n')


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of the values (missing values share one code)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy()
    return pd.factorize(values, use_na_sentinel=True)[0]


def _one_per_case(values: pd.Series, case: np.ndarray, n_cases: int) -> bool:
    """True when every case has a single value (missing counting as one) in `values`."""
    codes = _codes(values)
    first = np.empty(n_cases, codes.dtype)
    first[case] = codes
    return bool((codes == first[case]).all())


def _attribute(tag: str, key: str, values: pd.Series, indent: str) -> pa.Array:
    """`<tag key=".." value=".."/>` lines of the values; null (no line) where a value is missing."""
    if tag == "date":
        text = iso_times(values, sep="T", millis=True)
    else:
        text = by_distinct(values, lambda v: _esc(str(v)))
    return pc.binary_join_element_wise(f'{indent}<{tag} key="{_esc(key)}" value="', text, '"/>\n', "")


def _write_xes(log: pd.DataFrame, fh, rows: int = 500_000) -> None:
    """The XES text, built column by column in Arrow (each case's trace attributes on its first
    event, its closing tag on its last) and written a chunk of events at a time. A missing value
    has no attribute element."""
    fh.write(_XES_HEAD.encode())
    if log.empty:
        fh.write(b"</log>\n")
        return
    case_codes = _codes(log[CASE])
    new_case = np.r_[True, case_codes[1:] != case_codes[:-1]]  # a trace per run of a case id
    starts = np.flatnonzero(new_case)
    case = np.cumsum(new_case) - 1  # the trace of each event
    last = np.r_[starts[1:] - 1, len(log) - 1]
    standard = {CASE, ACTIVITY, TIME, START, RESOURCE}
    extra = [c for c in log.columns if c not in standard]
    # Attributes constant within every case go on the trace, the others on the events.
    n_codes = int(case_codes.max()) + 2
    case_level = [c for c in extra if _one_per_case(log[c], case_codes + 1, n_codes)]
    event_level = [c for c in extra if c not in case_level]
    first = log.iloc[starts]
    head = [_attribute("string", "concept:name", first[CASE], "    ")]
    head += [_attribute("string", c, first[c], "    ") for c in case_level]
    heads = pc.binary_join_element_wise("  <trace>\n", *head, "", null_handling="replace", null_replacement="")
    for lo in range(0, len(log), rows):
        part = log.iloc[lo:lo + rows]
        pieces = [_attribute("string", "concept:name", part[ACTIVITY], "      ")]
        if RESOURCE in part:
            pieces.append(_attribute("string", "org:resource", part[RESOURCE], "      "))
        pieces.append(_attribute("date", "time:timestamp", part[TIME], "      "))
        if START in part:
            pieces.append(_attribute("date", "start_timestamp", part[START], "      "))
        pieces += [_attribute("string", c, part[c], "      ") for c in event_level]
        at = np.arange(lo, lo + len(part))
        opens = pc.take(heads, pa.array(case[at], mask=~new_case[at]))
        closes = pa.array(np.where(at == last[case[at]], "  </trace>\n", ""), pa.string())
        text = pc.binary_join_element_wise(opens, "    <event>\n", *pieces, "    </event>\n", closes, "",
                                           null_handling="replace", null_replacement="")
        fh.write(text_bytes(text))
    fh.write(b"</log>\n")
