"""Dates and times kept in separate columns (Tanggal / Jam): read the time of day and join them.

A time-of-day column holds text such as `08:15`, `8.15`, `08:15:30`, `2:05 PM`, `pukul 09.15`
(a trailing WIB/WITA/WIT is the zone already given by the mapping's `tz`), Excel time cells
(read as `08:15:00`, or as a day fraction `0.34375`), or typed timestamps whose time of day is
taken. The date column is read like any time column (timestamps.py, through TimeColumn), with the
day/month order settled over all date columns together, since one export uses one order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sopaudit.core.errors import MappingError
from sopaudit.ingest.columns import TimeColumn, Times, is_text
from sopaudit.ingest.timestamps import NAT, US_PER_DAY, US_PER_SECOND, AmbiguousOrder, settle_order

_TOD = (r"(?i)^(?:(?:pukul|pkl|jam)\.?\s*)?(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2})(?:[.,]\d{1,9})?)?"
        r"(?:\s*(?P<P>[ap])\.?m\.?)?(?:\s*(?:wib|wita|wit))?\s*$")


@dataclass
class DayTimes:
    """Times of day of one column: microseconds after midnight, -1 where blank or unreadable."""

    us: np.ndarray  # int64
    present: np.ndarray  # bool: the cell was filled
    ok: np.ndarray  # bool: read as a time of day


def _as_array(arr) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def read_time_of_day(arr) -> DayTimes:
    """The time of day of every value of a column (text, day fractions or timestamps)."""
    arr = _as_array(arr)
    n = len(arr)
    us = np.full(n, -1, np.int64)
    if pa.types.is_timestamp(arr.type):
        vals = arr.cast(pa.timestamp("us")).cast(pa.int64())
        present = vals.is_valid().to_numpy(zero_copy_only=False)
        v = pc.fill_null(vals, 0).to_numpy(zero_copy_only=False).astype(np.int64)
        us[present] = v[present] % US_PER_DAY
        return DayTimes(us, present, present.copy())
    if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
        v = pc.fill_null(arr.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False)
        present = ~np.isnan(v)
        ok = present & (v >= 0) & (v < 1)  # Excel keeps a time of day as a fraction of a day
        us[ok] = np.round(v[ok] * 86_400) * US_PER_SECOND
        return DayTimes(us, present, ok)
    if not is_text(arr.type):
        present = arr.is_valid().to_numpy(zero_copy_only=False)
        return DayTimes(us, present, np.zeros(n, bool))
    text = pc.utf8_trim_whitespace(arr.cast(pa.string()))
    present = pc.fill_null(pc.not_equal(text, ""), False).to_numpy(zero_copy_only=False)
    enc = pc.dictionary_encode(text)
    uniq = enc.dictionary
    idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
    groups = pc.extract_regex(uniq, _TOD)
    hit = groups.is_valid().to_numpy(zero_copy_only=False)
    u_us = np.full(len(uniq), -1, np.int64)
    if hit.any():
        mask = pa.array(hit)

        def ints(name: str) -> np.ndarray:
            f = groups.field(name).filter(mask)
            return pc.cast(pc.if_else(pc.equal(f, ""), "-1", f), pa.int64()).to_numpy(zero_copy_only=False)

        hh, mi, ss = ints("H"), ints("M"), ints("S")
        ss = np.where(ss >= 0, ss, 0)
        ampm = pc.utf8_lower(groups.field("P").filter(mask)).to_numpy(zero_copy_only=False)
        pm, am = ampm == "p", ampm == "a"
        good = (mi <= 59) & (ss <= 59) & np.where(pm | am, (hh >= 1) & (hh <= 12), hh <= 23)
        hh = np.where(pm & (hh < 12), hh + 12, np.where(am & (hh == 12), 0, hh))
        u_us[np.flatnonzero(hit)] = np.where(good, ((hh * 60 + mi) * 60 + ss) * US_PER_SECOND, -1)
    us = np.where(idx >= 0, u_us[np.maximum(idx, 0)], -1)
    return DayTimes(us, present, present & (us >= 0))


def settled_order(columns: dict[str, pa.Array], spec: str, where: str) -> str:
    """The time_format to read every date column with: the given one, or, for auto, the
    day/month order the numeric dates of all the columns together settle ('auto' when there are
    none). Dates that contradict each other, or that never settle it, are an error."""
    if spec != "auto":
        return spec
    texts = [pc.drop_null(pc.unique(_as_array(a).cast(pa.string()))) for a in columns.values() if is_text(_as_array(a).type)]
    if not texts:
        return spec
    values = pa.concat_arrays([t.cast(pa.string()) for t in texts])
    try:
        order = settle_order(values)
    except AmbiguousOrder as exc:
        names = ", ".join(f"'{c}'" for c in columns)
        if exc.conflict:
            a, b = exc.examples
            raise MappingError(
                f"{where}: the dates in the columns {names} contradict each other: '{a}' can only be "
                f"day-first, '{b}' only month-first. Say which order the export uses with time_format: "
                "dayfirst or monthfirst; the dates that do not fit will be listed as rejected."
            ) from None
        raise MappingError(
            f"{where}: the dates in the columns {names} are ambiguous: in '{exc.examples[0]}' and every "
            "other date both numbers are 12 or less, so day-first and month-first read differently. "
            "Say which order the export uses with time_format: dayfirst or monthfirst; sopaudit does not guess."
        ) from None
    return order or spec


def read_dates(arr, name: str, spec: str, where: str, rows: np.ndarray) -> Times:
    """The dates (or date-times) of one column, read like a time column."""
    col = TimeColumn(name, spec, where)
    col.add(_as_array(arr))
    return col.finish(rows)


def join(dates: Times, tod: DayTimes | None) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock microseconds of each date at its time of day, and whether the time of day is
    known: from the time column, else from the date cell itself when it carries one (a date-time
    column) or a zone. A date without a time is its midnight."""
    us = dates.us.copy()
    read = us != NAT
    own_time = read & ((us % US_PER_DAY != 0) | dates.aware)
    timed = own_time.copy()
    if tod is not None:
        use = read & tod.ok & ~dates.aware
        us[use] = us[use] - us[use] % US_PER_DAY + tod.us[use]
        timed |= use
    return us, timed
