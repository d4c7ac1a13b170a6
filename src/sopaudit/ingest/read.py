"""Read a service-system export (CSV or XES) into the canonical event log.

Nothing is dropped silently: a row that cannot become an event (no case id, no activity, an
unreadable time) is counted and listed with its row number and reason in the LogInfo.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import warnings
from pathlib import Path

import pandas as pd

from ..errors import InputFileError, MappingError
from ..eventlog import ACTIVITY, CASE, INFO_KEY, LABEL, RESOURCE, ROW, TIME, LogInfo
from ..xmlsafe import check_xml

# Column names taken without asking: pm4py's own, and the plain English ones.
_DEFAULTS = {
    "case": (CASE, "case_id"),
    "activity": (ACTIVITY, "activity"),
    "time": (TIME, "timestamp"),
    "resource": (RESOURCE, "resource"),
}
_TZ_ALIASES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}


def resolve_tz(tz: str) -> str:
    """Accept IANA names and the Indonesian WIB/WITA/WIT."""
    return _TZ_ALIASES.get(tz.upper(), tz) if tz else "Asia/Jakarta"


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_log(
    path: str | Path,
    *,
    case: str | None = None,
    activity: str | None = None,
    time: str | None = None,
    resource: str | None = None,
    tz: str = "Asia/Jakarta",
) -> pd.DataFrame:
    """Read a CSV or XES(.gz) event log into a DataFrame with pm4py columns and tz-aware times.

    Column arguments name the source columns; when omitted, pm4py's names or the plain names
    case_id/activity/timestamp/resource are used. The source row number of every event is kept
    in the column `sopaudit:row` so every finding can point back at the file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: the log file does not exist; check the path given to --log")
    tz = resolve_tz(tz)
    name = path.name.lower()
    if name.endswith((".xes", ".xes.gz")):
        raw = _read_xes(path)
    elif name.endswith((".csv", ".txt", ".csv.gz")):
        raw = _read_csv(path)
    else:
        raise InputFileError(f"{path}: unknown log file type; use .csv, .xes or .xes.gz")
    if raw.empty:
        raise InputFileError(f"{path}: the log has no rows; export the events again or pick another file")
    mapping = _resolve_mapping(path, raw.columns, case=case, activity=activity, time=time, resource=resource)
    log, rejected = _canonical(raw, mapping, tz)
    if log.empty:
        reasons = sorted({r for _, r in rejected})
        raise InputFileError(
            f"{path}: none of the {len(raw)} rows could be read as an event ({'; '.join(reasons)}); "
            "check the column mapping and the time format"
        )
    log.attrs[INFO_KEY] = LogInfo(
        path=str(path), sha256=sha256_file(path), tz=tz, mapping=mapping,
        rows_read=len(raw), rejected=tuple(rejected),
    )
    return log


def _read_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    if b"\x00" in data[:65536]:
        raise InputFileError(f"{path}: this is a binary file, not a CSV text export")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:65536]
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sep = ","
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                           na_values=[""], skipinitialspace=False)
    except pd.errors.ParserError as exc:
        raise InputFileError(f"{path}: cannot split the CSV into columns ({exc}); "
                             "check that every line has the same number of separators") from None


def _read_xes(path: Path) -> pd.DataFrame:
    import pm4py

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    check_xml(path, opener=opener)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pm4py.read_xes(str(path), show_progress_bar=False)
        except Exception as exc:  # pm4py's XES reader raises assorted errors on malformed files
            raise InputFileError(f"{path}: cannot read this XES file ({type(exc).__name__}: {exc})") from None


def _resolve_mapping(path: Path, columns, **given: str | None) -> dict[str, str]:
    columns = list(map(str, columns))
    mapping: dict[str, str] = {}
    for role, col in given.items():
        if col is not None:
            if col not in columns:
                raise MappingError(
                    f"{path}: the {role} column '{col}' does not exist. The file has the columns: "
                    f"{', '.join(columns)}. Pass the right name with --{role}."
                )
            mapping[role] = col
            continue
        for candidate in _DEFAULTS[role]:
            if candidate in columns:
                mapping[role] = candidate
                break
    missing = [r for r in ("case", "activity", "time") if r not in mapping]
    if missing:
        flags = " ".join(f"--{r} COLUMN" for r in missing)
        raise MappingError(
            f"{path}: cannot tell which column holds the {', '.join(missing)}. The file has the "
            f"columns: {', '.join(columns)}. Name them with {flags}."
        )
    return mapping


def _parse_times(values: pd.Series, tz: str) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(tz)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    naive = ~text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        parsed = parsed.dt.tz_convert(tz)
        parsed[naive] = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        return parsed
    return parsed.dt.tz_convert(tz)


def _canonical(raw: pd.DataFrame, mapping: dict[str, str], tz: str) -> tuple[pd.DataFrame, list]:
    rows = pd.RangeIndex(1, len(raw) + 1)
    out = pd.DataFrame(index=raw.index)
    out[CASE] = raw[mapping["case"]].astype("string").str.strip()
    out[ACTIVITY] = raw[mapping["activity"]].astype("string").str.strip()
    out[TIME] = _parse_times(raw[mapping["time"]], tz)
    if "resource" in mapping:
        out[RESOURCE] = raw[mapping["resource"]].astype("string").str.strip()
    used = set(mapping.values())
    for col in raw.columns:
        if col not in used and col not in out.columns:
            out[col] = raw[col]
    out[ROW] = rows.to_numpy()
    out[LABEL] = out[ACTIVITY]

    rejected: list[tuple[int, str]] = []
    checks = [
        (out[CASE].isna() | (out[CASE] == ""), f"no case id in column '{mapping['case']}'"),
        (out[ACTIVITY].isna() | (out[ACTIVITY] == ""), f"no activity in column '{mapping['activity']}'"),
        (out[TIME].isna(), f"missing or unreadable time in column '{mapping['time']}'"),
    ]
    bad = pd.Series(False, index=out.index)
    for mask, reason in checks:
        new = mask & ~bad
        rejected.extend((int(r), reason) for r in out.loc[new, ROW])
        bad |= mask
    rejected.sort()
    log = out.loc[~bad].sort_values([CASE, TIME, ROW], kind="mergesort").reset_index(drop=True)
    return log, rejected
