"""Working-day calendar: which days an office works, and how long a service took in working time.

Indonesian service standards are written in working days (*hari kerja*): "the passport is issued
within 4 working days of the interview". A working day here is a day that is not a weekend day,
not a national public holiday, not *cuti bersama* (collective leave; configurable because many
offices stay open on it) and not an office-specific closure. Holidays come from the `holidays`
package (country "ID": category `public` for national holidays, `government` for cuti bersama).

Every timestamp function is vectorised over numpy's busday functions, so a million pairs take
well under a second; timestamps must be tz-aware and are converted to the office's time zone
first, because the local date decides which day an event belongs to. Conventions (see
docs/calendar.md):

- `working_days_between(start, end)` counts working days strictly after the start's local date
  up to and including the end's local date (= numpy.busday_count(start + 1 day, end + 1 day)).
  A start on a non-working day therefore behaves like a start at the close of the previous
  working day (Saturday start, Monday end = 1).
- When end is before start, both span functions return the negated span of (end, start).
- NaT in gives NaN (spans), False (boolean tests) or NaT (deadlines) out.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sopaudit.calendar.holiday_tables import CUTI_BERSAMA, holiday_rows, supported
from sopaudit.core.errors import InputFileError
from sopaudit.core.textfile import csv_table, read_small_table_text, yaml_list

TZ_ALIASES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
CLOSURE = "closure"  # category used for office closures in holidays_between()

_NS_PER_HOUR = 3_600_000_000_000
_ONE_DAY = np.timedelta64(1, "D")


def resolve_tz(tz: str) -> str:
    """Return the IANA zone for `tz`, accepting the Indonesian names WIB, WITA and WIT."""
    name = TZ_ALIASES.get(tz.strip().upper(), tz.strip()) if tz else "Asia/Jakarta"
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {tz!r}; use an IANA name such as 'Asia/Jakarta' or one of "
            "WIB, WITA, WIT"
        ) from None
    return name


@dataclass(frozen=True)
class WorkingCalendar:
    """The working days and office hours of one office; plain, hashable, picklable data.

    Dates and times given as strings are normalised on creation, so two calendars with the
    same meaning compare equal (which also makes them share the holiday cache).
    """

    country: str = "ID"
    tz: str = "Asia/Jakarta"
    cuti_bersama_working: bool = False
    office_hours: tuple[str, str] = ("08:00", "16:00")
    weekend: tuple[int, ...] = (5, 6)  # Monday = 0; Saturday and Sunday
    closures: tuple[dt.date, ...] = ()  # office-specific closed dates
    closure_reasons: tuple[tuple[dt.date, str], ...] = ()  # optional labels; dates are closed too
    extra_working_days: tuple[dt.date, ...] = ()  # e.g. Saturday services; override holidays

    def __post_init__(self) -> None:
        # Normalise through object.__setattr__: the dataclass is frozen but must stay plain data.
        country = str(self.country).upper()
        if not supported(country):
            raise ValueError(f"the holidays package has no calendar for country {self.country!r}")
        set_ = functools.partial(object.__setattr__, self)
        set_("country", country)
        set_("tz", resolve_tz(self.tz))
        set_("cuti_bersama_working", bool(self.cuti_bersama_working))
        opening, closing = (_hhmm(v) for v in self.office_hours)
        if not _minutes(opening) < _minutes(closing):
            raise ValueError(f"office_hours {self.office_hours!r}: opening must be before closing")
        set_("office_hours", (opening, closing))
        weekend = tuple(sorted({int(d) for d in self.weekend}))
        if any(d < 0 or d > 6 for d in weekend) or len(weekend) == 7:
            raise ValueError(
                f"weekend {self.weekend!r}: give weekday numbers 0-6 (Monday = 0), not all seven"
            )
        set_("weekend", weekend)
        reasons = tuple(sorted((_as_date(d), str(r)) for d, r in self.closure_reasons))
        set_("closure_reasons", reasons)
        closures = {_as_date(d) for d in self.closures} | {d for d, _ in reasons}
        set_("closures", tuple(sorted(closures)))
        extra = tuple(sorted({_as_date(d) for d in self.extra_working_days}))
        both = sorted(set(extra) & closures)
        if both:
            raise ValueError(
                f"dates both closed and extra working days: {', '.join(map(str, both))}"
            )
        set_("extra_working_days", extra)

    # ----------------------------------------------------------------- configuration helpers

    def with_closures_file(self, path: str | Path) -> WorkingCalendar:
        """A copy of this calendar with the closures listed in a CSV or YAML file added."""
        rows = load_closures(path)
        return replace(
            self,
            closures=self.closures + tuple(d for d, _ in rows),
            closure_reasons=self.closure_reasons + rows,
        )

    @property
    def weekmask(self) -> str:
        """The numpy weekmask string ('1111100' for a Saturday-Sunday weekend)."""
        return "".join("0" if d in self.weekend else "1" for d in range(7))

    def holiday_array(self, first_year: int, last_year: int) -> np.ndarray:
        """Sorted datetime64[D] non-working dates (holidays, closures) for numpy's busday functions.

        Extra working days are removed; an extra working day on a weekend cannot be expressed in
        numpy's calendar, which is why the span functions correct for it separately.
        """
        return _day_table(self, first_year, last_year).holidays

    def holidays_between(self, start_date: Any, end_date: Any) -> pd.DataFrame:
        """The non-working holidays and closures from start_date to end_date inclusive.

        Columns: date (datetime64, local calendar date), name, category ('public', 'government'
        for cuti bersama, 'closure'). Lists what the working-day counts excluded, for reports;
        holidays falling on a weekend are listed too. Cuti bersama are left out when they are
        working days, and so are dates made working by extra_working_days.
        """
        first, last = self._date_arg(start_date), self._date_arg(end_date)
        rows = [
            (d, n, c)
            for d, n, c in holiday_rows(
                self.country, first.year // 10 * 10, last.year // 10 * 10 + 9
            )
            if not (c == CUTI_BERSAMA and self.cuti_bersama_working)
        ]
        reasons = dict(self.closure_reasons)
        rows += [(d, reasons.get(d, "office closure"), CLOSURE) for d in self.closures]
        extra = set(self.extra_working_days)
        rows = sorted(r for r in rows if first <= r[0] <= last and r[0] not in extra)
        frame = pd.DataFrame(rows, columns=["date", "name", "category"])
        frame["date"] = pd.to_datetime(frame["date"])
        return frame

    # ----------------------------------------------------------------- vectorised functions

    def is_working_day(self, dates: Any) -> Any:
        """True where the local date is a working day; accepts tz-aware timestamps or plain dates."""
        local = self._local(dates, "dates", allow_dates=True)
        table = self._table(local.days)
        out = table.working(_fill(local.days, local.nat))
        out[local.nat] = False
        return local.wrap(out)

    def is_office_hours(self, ts: Any) -> Any:
        """True where a timestamp falls on a working day within office hours (opening inclusive).

        Meant for data-quality flags: events recorded outside office hours deserve a look.
        """
        local = self._local(ts, "ts")
        table = self._table(local.days)
        opening, closing = self._office_ns()
        days = _fill(local.days, local.nat)
        out = table.working(days) & (local.tod >= opening) & (local.tod < closing)
        out[local.nat] = False
        return local.wrap(out)

    def working_days_between(self, start: Any, end: Any) -> Any:
        """Working days after start's local date up to and including end's local date (float).

        Monday to Friday of one week = 4; same day = 0; Saturday to Monday = 1. Negative (the
        negated count from end to start) when end's date is before start's; NaN where either is
        NaT. Plain dates are accepted as local dates.
        """
        s = self._local(start, "start", allow_dates=True)
        e = self._local(end, "end", allow_dates=True)
        ds, de, nat, wrap = _pair(s, e)
        table = self._table(ds, de)
        count = table.count(ds + _ONE_DAY, de + _ONE_DAY).astype(np.float64)
        count[nat] = np.nan
        return wrap(count)

    def working_hours_between(self, start: Any, end: Any) -> Any:
        """Hours of office time on working days between two timestamps (float).

        Partial days are clipped at the office hours: a start at 15:00 and an end at 09:00 on the
        next working day with 08:00-16:00 hours gives 2.0. Negative when end is before start;
        NaN where either is NaT. Wall-clock hours: a DST change (not used in Indonesia) is ignored.
        """
        s = self._local(start, "start")
        e = self._local(end, "end")
        ds, de, nat, wrap = _pair(s, e)
        hs, he = np.broadcast_arrays(s.tod, e.tod)
        # Work on (earlier, later) pairs and restore the sign at the end: keeps the span antisymmetric.
        neg = (de < ds) | ((de == ds) & (he < hs))
        ds, de = np.where(neg, de, ds), np.where(neg, ds, de)
        hs, he = np.where(neg, he, hs), np.where(neg, hs, he)
        table = self._table(ds, de)
        opening, closing = self._office_ns()
        # A non-working first or last day contributes nothing: its times collapse onto the bounds.
        t_start = np.where(table.working(ds), np.clip(hs, opening, closing), closing)
        t_end = np.where(table.working(de), np.clip(he, opening, closing), opening)
        # Full working days strictly between the two dates; equals -1 for one working date, so the
        # same-day case reduces to t_end - t_start without a branch.
        between = table.count(ds + _ONE_DAY, de)
        ns = between * (closing - opening) + (closing - t_start) + (t_end - opening)
        hours = ns / _NS_PER_HOUR
        hours = np.where(neg, -hours, hours)
        hours[nat] = np.nan
        return wrap(hours)

    def add_working_days(self, ts: Any, n: Any) -> Any:
        """Deadline: the n-th working day after the local date of ts, as tz-aware local midnight.

        working_days_between(ts, deadline) == n for n >= 1, so an end is on time when
        end.normalize() <= deadline. n = 0 gives the local date itself (same-day service); a
        negative n gives the |n|-th working day before the local date. NaT (or NaN n) gives NaT.
        """
        local = self._local(ts, "ts", allow_dates=True)
        steps = np.asarray(n)
        missing = np.zeros(steps.shape, bool)
        if steps.dtype.kind not in "iu":
            missing = np.isnan(steps) if steps.dtype.kind == "f" else missing
            if steps.dtype.kind != "f" or not np.all(missing | (steps == np.round(steps))):
                raise ValueError("add_working_days: n must hold whole numbers of working days")
            steps = np.where(missing, 0, steps)  # a missing n gives NaT, like a missing ts
        days, steps = np.broadcast_arrays(_fill(local.days, local.nat), steps.astype(np.int64))
        nat = np.broadcast_to(local.nat, days.shape) | np.broadcast_to(missing, days.shape)
        reach = int(np.abs(steps).max(initial=0)) // 200 + 1  # >= 200 working days a year
        table = self._table(days, pad_years=reach)
        out = table.offset(days, steps)
        out = np.where(nat, np.datetime64("NaT", "D"), out)
        stamps = pd.DatetimeIndex(out.astype("datetime64[ns]")).tz_localize(
            self.tz, ambiguous="NaT", nonexistent="shift_forward"
        )
        # numpy cannot hold tz-aware values: array inputs get a DatetimeIndex back.
        return _wrap(stamps, local.scalar and np.ndim(n) == 0, local.index)

    # ----------------------------------------------------------------- internals

    def _office_ns(self) -> tuple[int, int]:
        opening, closing = self.office_hours
        return _minutes(opening) * 60_000_000_000, _minutes(closing) * 60_000_000_000

    def _table(self, *days: np.ndarray, pad_years: int = 0) -> _DayTable:
        """The cached day table covering every (non-NaT) date given, in whole decades."""
        valid = [d[~np.isnat(d)] for d in days]
        valid = [d for d in valid if d.size]
        if valid:
            first = min(int(d.min().astype("datetime64[Y]").astype(int)) for d in valid) + 1970
            last = max(int(d.max().astype("datetime64[Y]").astype(int)) for d in valid) + 1970
        else:
            first = last = 2000
        # Decade blocks: one holiday computation serves every later call on nearby data.
        first = (first - pad_years) // 10 * 10
        last = (last + pad_years) // 10 * 10 + 9
        return _day_table(self, first, last)

    def _date_arg(self, value: Any) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        stamp = pd.Timestamp(value)
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert(self.tz)
        return stamp.date()

    def _local(self, values: Any, what: str, allow_dates: bool = False) -> _Local:
        return _to_local(values, self.tz, what, allow_dates)


# --------------------------------------------------------------------- day tables (cached)


@dataclass(frozen=True)
class _DayTable:
    """numpy busday calendar plus the weekend days made working, for one calendar and year range."""

    busdaycal: np.busdaycalendar
    holidays: np.ndarray  # datetime64[D], non-working weekdays and weekend days alike
    extra: np.ndarray  # datetime64[D], sorted: working days numpy's weekmask would call weekend
    working_days: np.ndarray | None  # every working day of the range, only built when extra exists

    def working(self, days: np.ndarray) -> np.ndarray:
        out = np.is_busday(days, busdaycal=self.busdaycal)
        if self.extra.size:
            out |= _contains(self.extra, days)
        return out

    def count(self, begin: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Working days in [begin, end); when end < begin, minus the working days in [end, begin).

        numpy.busday_count counts (end, begin] for reversed arguments instead; swapping first
        keeps every span antisymmetric: f(a, b) == -f(b, a).
        """
        reverse = end < begin
        lo, hi = np.where(reverse, end, begin), np.where(reverse, begin, end)
        out = np.busday_count(lo, hi, busdaycal=self.busdaycal)
        if self.extra.size:
            out += np.searchsorted(self.extra, hi, "left") - np.searchsorted(self.extra, lo, "left")
        return np.where(reverse, -out, out)

    def offset(self, days: np.ndarray, steps: np.ndarray) -> np.ndarray:
        if self.working_days is None:
            # roll='backward' for n > 0: a non-working start counts like the last working day before
            # it, which matches working_days_between; roll='forward' for n < 0 ("|n| days before").
            fwd = np.busday_offset(days, steps, roll="backward", busdaycal=self.busdaycal)
            back = np.busday_offset(days, steps, roll="forward", busdaycal=self.busdaycal)
            return np.where(steps > 0, fwd, np.where(steps < 0, back, days))
        # Weekend days made working cannot live in numpy's calendar: index the explicit list.
        w = self.working_days
        after = np.searchsorted(w, days, "right") + steps - 1
        before = np.searchsorted(w, days, "left") + steps
        idx = np.clip(np.where(steps > 0, after, before), 0, len(w) - 1)
        return np.where(steps == 0, days, w[idx])


@functools.lru_cache(maxsize=64)
def _day_table(cal: WorkingCalendar, first_year: int, last_year: int) -> _DayTable:
    rows = holiday_rows(cal.country, first_year, last_year)
    closed = {d for d, _, c in rows if not (c == CUTI_BERSAMA and cal.cuti_bersama_working)}
    closed |= set(cal.closures)
    closed -= set(cal.extra_working_days)
    hol = np.array(sorted(closed), dtype="datetime64[D]")
    busdaycal = np.busdaycalendar(weekmask=cal.weekmask, holidays=hol)
    extra = np.array(cal.extra_working_days, dtype="datetime64[D]")
    extra = extra[~np.is_busday(extra, busdaycal=busdaycal)] if extra.size else extra
    working_days = None
    if extra.size:
        first = np.datetime64(f"{first_year:04d}-01-01", "D")
        span = np.arange(first, np.datetime64(f"{last_year + 1:04d}-01-01", "D"))
        working_days = span[np.is_busday(span, busdaycal=busdaycal) | _contains(extra, span)]
    return _DayTable(busdaycal, hol, extra, working_days)


def _contains(sorted_days: np.ndarray, days: np.ndarray) -> np.ndarray:
    pos = np.clip(np.searchsorted(sorted_days, days), 0, len(sorted_days) - 1)
    return sorted_days[pos] == days


# --------------------------------------------------------------------- input conversion


@dataclass
class _Local:
    """Local calendar dates and times of day of an input, and how to shape the output like it."""

    days: np.ndarray  # datetime64[D], NaT where missing
    tod: np.ndarray  # int64 nanoseconds since local midnight (0 for plain dates)
    nat: np.ndarray  # bool
    scalar: bool
    index: pd.Index | None  # the input Series' index

    def wrap(self, out: Any) -> Any:
        return _wrap(out, self.scalar, self.index)


def _wrap(out: Any, scalar: bool, index: pd.Index | None) -> Any:
    """Shape a result like the input: scalar, Series with the input's index, or array."""
    if scalar:
        return out[0].item() if isinstance(out, np.ndarray) else out[0]
    if index is not None and len(index) == len(out):
        return pd.Series(out, index=index)
    return out


def _pair(s: _Local, e: _Local) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Broadcast two inputs; the output takes the index of the first non-scalar Series given."""
    if s.days.shape != e.days.shape and not (s.scalar or e.scalar):
        raise ValueError(
            f"start and end have different lengths ({s.days.size} and {e.days.size}); "
            "pass equal-length arrays or one scalar"
        )
    ds, de = np.broadcast_arrays(_fill(s.days, s.nat), _fill(e.days, e.nat))
    nat = np.broadcast_to(s.nat, ds.shape) | np.broadcast_to(e.nat, ds.shape)
    index = s.index if s.index is not None and not s.scalar else e.index
    return ds, de, nat, functools.partial(_wrap, scalar=s.scalar and e.scalar, index=index)


def _fill(days: np.ndarray, nat: np.ndarray) -> np.ndarray:
    """Replace NaT by a date of the data: numpy's busday functions refuse NaT; results are masked."""
    if not nat.any():
        return days
    valid = days[~nat]
    return np.where(nat, valid.min() if valid.size else np.datetime64("2000-01-03", "D"), days)


def _naive_error(what: str, tz: str) -> ValueError:
    return ValueError(
        f"{what} holds naive timestamps (no time zone), so the local working day is unknown. "
        f"Localise them first: .dt.tz_localize('{tz}') if they are this office's local clock "
        "times, or .dt.tz_localize('UTC') if they are UTC."
    )


def _is_plain_date(v: Any) -> bool:
    return isinstance(v, dt.date) and not isinstance(v, dt.datetime)


def _to_local(values: Any, tz: str, what: str, allow_dates: bool) -> _Local:
    """Convert timestamps (scalar, list, ndarray, Series, DatetimeIndex) to local dates and times."""
    index = values.index if isinstance(values, pd.Series) else None
    scalar = not isinstance(values, pd.Series | pd.Index | np.ndarray | list | tuple) and (
        values is None or pd.api.types.is_scalar(values) or isinstance(values, dt.date)
    )
    data: Any = [values] if scalar else values
    if isinstance(data, pd.Series | pd.Index):
        data = data.array
    dtype = getattr(data, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype):
        stamps = pd.DatetimeIndex(data)
    else:
        arr = np.asarray(data)
        if arr.dtype.kind == "M" and np.datetime_data(arr.dtype)[0] == "D" and allow_dates:
            return _dates_local(arr.astype("datetime64[D]"), scalar, index)
        if arr.dtype.kind == "O":
            present = [v for v in arr.ravel() if v is not None and not pd.isna(v)]
            if present and all(_is_plain_date(v) for v in present):
                if not allow_dates:
                    raise ValueError(
                        f"{what} holds plain dates; this needs timestamps with a time of day"
                    )
                days = np.array(
                    [None if v is None or pd.isna(v) else v for v in arr], "datetime64[D]"
                )
                return _dates_local(days, scalar, index)
        if arr.dtype.kind == "M":
            if not np.isnat(arr).all():
                raise _naive_error(what, tz)
            stamps = pd.DatetimeIndex(arr).tz_localize(tz)
        else:
            stamps = _object_stamps(arr, tz, what)
    if stamps.tz is None:
        if stamps.notna().any():
            raise _naive_error(what, tz)
        stamps = stamps.tz_localize(tz)
    local = stamps.tz_convert(tz).tz_localize(None).to_numpy().astype("datetime64[ns]")
    days = local.astype("datetime64[D]")
    tod = (local - days).astype(np.int64)  # NaT gives a garbage integer; callers mask with nat
    return _Local(days, tod, np.isnat(days), scalar, index)


def _dates_local(days: np.ndarray, scalar: bool, index: pd.Index | None) -> _Local:
    return _Local(days, np.zeros(days.shape, np.int64), np.isnat(days), scalar, index)


def _object_stamps(arr: np.ndarray, tz: str, what: str) -> pd.DatetimeIndex:
    try:
        return pd.DatetimeIndex(pd.to_datetime(arr.ravel()))
    except (ValueError, TypeError):
        pass
    # Mixed time zones (or naive mixed with aware): check each element, then go through UTC.
    for v in arr.ravel():
        if v is not None and not pd.isna(v) and pd.Timestamp(v).tzinfo is None:
            raise _naive_error(what, tz)
    return pd.DatetimeIndex(pd.to_datetime(arr.ravel(), utc=True))


# --------------------------------------------------------------------- small parsers

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def _hhmm(value: Any) -> str:
    if isinstance(value, dt.time):
        value = value.strftime("%H:%M")
    m = _HHMM.match(str(value).strip())
    if not m or int(m[1]) > 24 or int(m[2]) > 59 or (int(m[1]) == 24 and int(m[2])):
        raise ValueError(f"office hour {value!r}: write times as HH:MM, e.g. '08:00'")
    return f"{int(m[1]):02d}:{m[2]}"


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def _as_date(value: Any) -> dt.date:
    if _is_plain_date(value):
        return value
    if isinstance(value, str):
        parsed = parse_date_text(value)
        if parsed is None:
            raise ValueError(f"{value!r} is not a date; write YYYY-MM-DD or DD/MM/YYYY")
        return parsed
    return pd.Timestamp(value).date()


def parse_date_text(text: str) -> dt.date | None:
    """ISO (2024-04-10) or day-first (10/04/2024, 10-04-2024, 10.04.2024); None if neither."""
    text = text.strip()
    if m := _ISO_DATE.match(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _DAY_FIRST.match(text):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    else:
        return None
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


# --------------------------------------------------------------------- closures file

_DATE_COLUMNS = ("date", "tanggal")
_REASON_COLUMNS = ("reason", "keterangan", "alasan")
_FORMAT_HINT = "Write dates as YYYY-MM-DD (2024-05-02) or DD/MM/YYYY (02/05/2024)"


def load_closures(path: str | Path) -> tuple[tuple[dt.date, str], ...]:
    """Read office closures (date, reason) from a CSV or YAML file, sorted by date.

    CSV: a header row with a `date` (or `tanggal`) column and a `reason` (or `keterangan`,
    `alasan`) column; comma or semicolon separated; lines starting with '#' are ignored.
    YAML: a list of mappings with `date` and `reason`, optionally under a top-level `closures:`.
    Any bad row raises InputFileError naming the file, the line and the fix.
    """
    path = Path(path)
    suffix, text = read_small_table_text(path, "closures")
    items = _closures_yaml(path, text) if suffix in (".yaml", ".yml") else _closures_csv(path, text)
    seen: dict[dt.date, int] = {}
    rows = []
    for line, raw_date, reason in items:
        day = parse_date_text(raw_date)
        if day is None:
            raise InputFileError(f"{path}, line {line}: {raw_date!r} is not a date. {_FORMAT_HINT}")
        if not reason.strip():
            raise InputFileError(
                f"{path}, line {line}: the reason for {day} is empty; say why the office was closed"
            )
        if day in seen:
            raise InputFileError(
                f"{path}, line {line}: {day} is already listed on line {seen[day]}; keep one row per date"
            )
        seen[day] = line
        rows.append((day, reason.strip()))
    return tuple(sorted(rows))


def _closures_csv(path: Path, text: str) -> list[tuple[int, str, str]]:
    header_line, header, delimiter, rows = csv_table(path, text, "'date,reason' and one row per closure")
    date_col = next((header.index(c) for c in _DATE_COLUMNS if c in header), None)
    reason_col = next((header.index(c) for c in _REASON_COLUMNS if c in header), None)
    if date_col is None or reason_col is None:
        raise InputFileError(
            f"{path}, line {header_line}: the header must have a 'date' and a 'reason' column "
            f"(found: {', '.join(header) or 'nothing'}); e.g. 'date,reason'"
        )
    items = []
    for line, row in rows:
        if len(row) <= max(date_col, reason_col):
            raise InputFileError(
                f"{path}, line {line}: expected {len(header)} '{delimiter}'-separated fields, found {len(row)}; "
                "give a date and a reason on every row"
            )
        items.append((line, row[date_col], row[reason_col]))
    return items


def _closures_yaml(path: Path, text: str) -> list[tuple[int, str, str]]:
    root = yaml_list(path, text, "closures", "- {date: 2024-05-02, reason: ...}")
    if root is None:
        return []
    items = []
    for node in root.value:
        line = node.start_mark.line + 1
        fields = {}
        if isinstance(node, yaml.MappingNode):
            fields = {
                k.value: v.value
                for k, v in node.value
                if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
            }
        if "date" not in fields or "reason" not in fields:
            raise InputFileError(
                f"{path}, line {line}: each closure needs 'date' and 'reason', "
                "e.g. '- {date: 2024-05-02, reason: renovasi gedung}'"
            )
        items.append((line, str(fields["date"]), str(fields["reason"])))
    return items
