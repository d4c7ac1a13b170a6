"""Tests of the working-day calendar: exact day and hour counts around Indonesian holidays."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from dataclasses import FrozenInstanceError

import holidays
import numpy as np
import pandas as pd
import pytest

from sopaudit.calendar import WorkingCalendar, load_closures
from sopaudit.calendar import holiday_tables as tables
from sopaudit.calendar import workdays as calmod
from sopaudit.core.errors import InputFileError

WIB = "Asia/Jakarta"
CAL = WorkingCalendar()
OPEN_ON_CUTI = WorkingCalendar(cuti_bersama_working=True)


def ts(text: str, tz: str = WIB) -> pd.Timestamp:
    return pd.Timestamp(text, tz=tz)


def series(*texts: str | None, tz: str = WIB) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts))).dt.tz_localize(tz)


# ------------------------------------------------------------------ the holiday data itself


def test_holidays_package_has_idul_fitri_2024_and_2025():
    public = holidays.country_holidays("ID", years=[2024, 2025], categories=("public",))
    cuti = holidays.country_holidays("ID", years=[2024, 2025], categories=("government",))
    assert {d for d in public if d.month == 4 and d.year == 2024 and d.day <= 15} == {
        dt.date(2024, 4, 10),
        dt.date(2024, 4, 11),
    }
    assert {d for d in cuti if d.year == 2024 and d.month == 4} == {
        dt.date(2024, 4, d) for d in (8, 9, 12, 15)
    }
    assert {dt.date(2025, 3, 31), dt.date(2025, 4, 1)} <= set(public)
    assert {d for d in cuti if d.year == 2025 and d.month == 4} == {
        dt.date(2025, 4, d) for d in (2, 3, 4, 7)
    }


def test_holidays_between_lists_excluded_days_with_category():
    got = CAL.holidays_between(dt.date(2024, 4, 1), "2024-04-30")
    assert list(got.columns) == ["date", "name", "category"]
    assert [d.day for d in got["date"].dt.date] == [8, 9, 10, 11, 12, 15]
    assert list(got["category"]) == [
        "government",
        "government",
        "public",
        "public",
        "government",
        "government",
    ]
    assert got["name"].iloc[2] == "Eid al-Fitr"
    # When cuti bersama are working days they were not excluded, so they are not listed.
    open_days = OPEN_ON_CUTI.holidays_between("2024-04-01", "2024-04-30")
    assert [d.day for d in open_days["date"].dt.date] == [10, 11]


# ------------------------------------------------------------------ working days


@pytest.mark.parametrize(
    ("start", "end", "closed", "open_"),
    [
        # Idul Fitri 2024: Eid 10-11 Apr, cuti bersama 8, 9, 12, 15 Apr.
        ("2024-04-04 10:00", "2024-04-16 10:00", 2, 6),  # Thu -> Tue: Fri 5, Tue 16 | + 8,9,12,15
        ("2024-04-05 15:00", "2024-04-08 09:00", 0, 1),  # Fri -> cuti bersama Monday
        ("2024-04-09 09:00", "2024-04-16 09:00", 1, 3),  # start on cuti bersama
        # Idul Fitri 2025: Eid 31 Mar-1 Apr, cuti bersama 28 Mar (Nyepi), 2, 3, 4, 7 Apr.
        ("2025-03-27 10:00", "2025-04-08 10:00", 1, 6),
        ("2025-03-31 10:00", "2025-04-09 10:00", 2, 6),  # start on Eid itself
    ],
)
def test_working_days_across_idul_fitri(start, end, closed, open_):
    assert CAL.working_days_between(ts(start), ts(end)) == closed
    assert OPEN_ON_CUTI.working_days_between(ts(start), ts(end)) == open_


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-01-08 09:00", "2024-01-12 15:00", 4),  # Mon interview -> Fri ready: 4 hari kerja
        ("2024-01-08 09:00", "2024-01-08 15:00", 0),  # same day
        ("2024-01-12 15:00", "2024-01-15 09:00", 1),  # Fri -> Mon
        ("2024-01-13 10:00", "2024-01-15 09:00", 1),  # Sat start counts like Fri close
        ("2024-01-13 10:00", "2024-01-14 09:00", 0),  # Sat -> Sun
        ("2024-01-08 09:00", "2024-01-15 09:00", 5),  # one full week
        ("2024-01-12 09:00", "2024-01-08 09:00", -4),  # end before start: negated
        ("2024-01-08 15:00", "2024-01-08 09:00", 0),  # earlier time, same date
    ],
)
def test_working_days_weekends_and_sign(start, end, expected):
    assert CAL.working_days_between(ts(start), ts(end)) == expected


def test_working_days_accepts_plain_dates():
    assert CAL.working_days_between(dt.date(2024, 1, 8), dt.date(2024, 1, 12)) == 4
    days = np.array(["2024-01-08", "2024-04-04"], dtype="datetime64[D]")
    ends = np.array(["2024-01-12", "2024-04-16"], dtype="datetime64[D]")
    assert CAL.working_days_between(days, ends).tolist() == [4.0, 2.0]


def test_office_closure_and_extra_working_day():
    closed = WorkingCalendar(closures=(dt.date(2024, 1, 10),))
    assert closed.working_days_between(ts("2024-01-08 09:00"), ts("2024-01-12 09:00")) == 3
    assert not closed.is_working_day(dt.date(2024, 1, 10))
    assert closed.working_hours_between(ts("2024-01-09 15:00"), ts("2024-01-11 09:00")) == 2.0
    listed = closed.holidays_between("2024-01-01", "2024-01-31")
    assert listed["category"].tolist() == ["public", "closure"]

    saturday = WorkingCalendar(extra_working_days=("2024-01-13",))
    assert saturday.is_working_day(dt.date(2024, 1, 13))
    assert saturday.working_days_between(ts("2024-01-12 09:00"), ts("2024-01-15 09:00")) == 2
    assert saturday.working_days_between(ts("2024-01-15 09:00"), ts("2024-01-12 09:00")) == -2
    assert saturday.working_hours_between(ts("2024-01-12 15:00"), ts("2024-01-15 09:00")) == 10.0
    assert saturday.add_working_days(ts("2024-01-12 09:00"), 1) == ts("2024-01-13")
    assert saturday.add_working_days(ts("2024-01-15 09:00"), -1) == ts("2024-01-13")
    # An office opening on a public holiday: the explicit working day wins.
    assert WorkingCalendar(extra_working_days=(dt.date(2024, 4, 10),)).is_working_day(
        dt.date(2024, 4, 10)
    )
    with pytest.raises(ValueError, match="both closed and extra"):
        WorkingCalendar(closures=("2024-01-13",), extra_working_days=("2024-01-13",))


# ------------------------------------------------------------------ working hours


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2024-01-08 09:30", "2024-01-08 11:00", 1.5),  # both within one day
        ("2024-01-08 06:00", "2024-01-08 10:00", 2.0),  # start before opening
        ("2024-01-08 14:00", "2024-01-08 20:00", 2.0),  # end after closing
        ("2024-01-08 06:00", "2024-01-08 07:00", 0.0),  # both before opening
        ("2024-01-08 17:00", "2024-01-09 07:00", 0.0),  # night between two days
        ("2024-01-08 08:00", "2024-01-08 16:00", 8.0),  # exactly the office day
        ("2024-01-08 15:00", "2024-01-09 09:00", 2.0),  # the documented example
        ("2024-01-12 15:00", "2024-01-15 09:00", 2.0),  # across a weekend
        ("2024-01-13 10:00", "2024-01-15 10:00", 2.0),  # Saturday start
        ("2024-01-08 10:00", "2024-01-15 10:00", 40.0),  # a week
        ("2024-04-05 15:00", "2024-04-16 09:00", 2.0),  # across Idul Fitri 2024
        ("2024-01-09 09:00", "2024-01-08 15:00", -2.0),  # end before start: negated
        ("2024-01-08 11:00", "2024-01-08 09:30", -1.5),
    ],
)
def test_working_hours(start, end, expected):
    assert CAL.working_hours_between(ts(start), ts(end)) == pytest.approx(expected, abs=1e-9)


def test_working_hours_cuti_bersama_setting_and_custom_hours():
    # Fri 15:00 -> Tue 16 Apr 09:00 with 8, 9, 12, 15 April open: 1 + 4 * 8 + 1.
    assert (
        OPEN_ON_CUTI.working_hours_between(ts("2024-04-05 15:00"), ts("2024-04-16 09:00")) == 34.0
    )
    short = WorkingCalendar(office_hours=("07:30", "15:30"))
    assert short.working_hours_between(ts("2024-01-08 07:00"), ts("2024-01-08 16:00")) == 8.0
    assert short.working_hours_between(ts("2024-01-08 15:00"), ts("2024-01-09 08:00")) == 1.0


def test_is_office_hours_boundaries():
    got = CAL.is_office_hours(
        series(
            "2024-01-08 08:00",  # opening: in
            "2024-01-08 15:59",
            "2024-01-08 16:00",  # closing: out
            "2024-01-08 07:59",
            "2024-01-13 10:00",  # Saturday
            "2024-04-10 10:00",  # Idul Fitri
            None,
        )
    )
    assert got.tolist() == [True, True, False, False, False, False, False]


# ------------------------------------------------------------------ time zones


def test_time_zone_decides_the_local_day():
    wita = WorkingCalendar(tz="WITA")
    assert wita.tz == "Asia/Makassar"
    # 16:30 UTC on Thu 11 Jan is 23:30 Thursday in WIB but 00:30 Friday in WITA.
    start = pd.Timestamp("2024-01-11 16:30", tz="UTC")
    end = ts("2024-01-12 10:00", "Asia/Makassar")
    assert wita.working_days_between(start, end) == 0
    assert CAL.working_days_between(start, end) == 1
    # 23:30 UTC on Friday is Saturday 07:30 in WITA: not a working day there.
    assert not wita.is_working_day(pd.Timestamp("2024-01-12 23:30", tz="UTC"))
    assert wita.is_working_day(pd.Timestamp("2024-01-12 15:30", tz="UTC"))  # Fri 23:30 WITA
    # Office hours are local: 07:00-00:30 UTC is 15:00-08:30 WITA but 14:00-07:30 WIB.
    s, e = pd.Timestamp("2024-01-11 07:00", tz="UTC"), pd.Timestamp("2024-01-12 00:30", tz="UTC")
    assert wita.working_hours_between(s, e) == 1.5
    assert CAL.working_hours_between(s, e) == 2.0


def test_time_zone_names():
    assert WorkingCalendar(tz="WIB") == CAL
    assert WorkingCalendar(tz="wit").tz == "Asia/Jayapura"
    assert WorkingCalendar(tz="Asia/Pontianak").tz == "Asia/Pontianak"
    with pytest.raises(ValueError, match="unknown time zone"):
        WorkingCalendar(tz="Jakarta")


def test_naive_timestamps_are_refused():
    naive = pd.Series(pd.to_datetime(["2024-01-08 09:00"]))
    for bad in (naive, pd.Timestamp("2024-01-08 09:00"), naive.to_numpy()):
        with pytest.raises(ValueError, match="tz_localize"):
            CAL.working_days_between(bad, ts("2024-01-12 09:00"))
    with pytest.raises(ValueError, match="tz_localize"):
        CAL.working_hours_between(ts("2024-01-08 09:00"), naive)
    with pytest.raises(ValueError, match="tz_localize"):
        CAL.is_office_hours(naive)


# ------------------------------------------------------------------ missing values and shapes


def test_nat_gives_nan_false_and_nat():
    start = series("2024-01-08 09:00", None, "2024-01-08 09:00")
    end = series("2024-01-12 09:00", "2024-01-12 09:00", None)
    assert CAL.working_days_between(start, end).tolist()[0] == 4.0
    assert CAL.working_days_between(start, end).isna().tolist() == [False, True, True]
    assert CAL.working_hours_between(start, end).isna().tolist() == [False, True, True]
    assert CAL.is_working_day(start).tolist() == [True, False, True]
    deadline = CAL.add_working_days(start, 4)
    assert deadline.iloc[0] == ts("2024-01-12") and pd.isna(deadline.iloc[1])
    assert np.isnan(CAL.working_days_between(pd.NaT, ts("2024-01-12 09:00")))


def test_shapes_follow_the_input():
    start = series("2024-01-08 09:00", "2024-01-12 15:00")
    start.index = ["a", "b"]
    got = CAL.working_days_between(start, ts("2024-01-15 09:00"))
    assert (
        isinstance(got, pd.Series) and list(got.index) == ["a", "b"] and got.tolist() == [5.0, 1.0]
    )
    arr = np.array([ts("2024-01-08 09:00"), ts("2024-01-12 15:00")], dtype=object)
    out = CAL.working_days_between(arr, [ts("2024-01-15 09:00")] * 2)
    assert isinstance(out, np.ndarray) and out.tolist() == [5.0, 1.0]
    assert isinstance(CAL.working_days_between(ts("2024-01-08"), ts("2024-01-09")), float)
    with pytest.raises(ValueError, match="different lengths"):
        CAL.working_days_between(start, series("2024-01-08 09:00"))


# ------------------------------------------------------------------ deadlines


def test_add_working_days_deadlines():
    thursday = ts("2024-04-04 10:00")
    assert CAL.add_working_days(thursday, 4) == ts("2024-04-18")  # Fri 5, Tue 16, Wed 17, Thu 18
    assert OPEN_ON_CUTI.add_working_days(thursday, 4) == ts("2024-04-12")  # 5, 8, 9, 12
    assert CAL.add_working_days(ts("2024-01-13 10:00"), 1) == ts("2024-01-15")  # Sat + 1 = Mon
    assert CAL.add_working_days(ts("2024-01-13 10:00"), 0) == ts("2024-01-13")  # same day
    assert CAL.add_working_days(ts("2024-01-15 10:00"), -1) == ts("2024-01-12")
    many = CAL.add_working_days(thursday, [0, 1, 2])
    assert [d.day for d in many] == [4, 5, 16]
    assert pd.isna(CAL.add_working_days(thursday, [4.0, np.nan])[1])
    with pytest.raises(ValueError, match="whole numbers"):
        CAL.add_working_days(thursday, 1.5)


# ------------------------------------------------------------------ vectorised == per-row loop


def _loop_reference(cal: WorkingCalendar, start, end, n):
    """Plain per-row Python, built straight from the holidays package (not from calendar.py)."""
    cats = ("public",) if cal.cuti_bersama_working else ("public", "government")
    closed = set(holidays.country_holidays("ID", years=range(2022, 2028), categories=cats))
    closed |= set(cal.closures)

    def working(d: dt.date) -> bool:
        return d in set(cal.extra_working_days) or (
            d.weekday() not in cal.weekend and d not in closed
        )

    o_h, o_m = map(int, cal.office_hours[0].split(":"))
    c_h, c_m = map(int, cal.office_hours[1].split(":"))
    days, hours, deadlines = [], [], []
    for s, e, k in zip(start, end, n, strict=True):
        if pd.isna(s) or pd.isna(e):
            days.append(np.nan)
            hours.append(np.nan)
        else:
            s_local = s.tz_convert(cal.tz).tz_localize(None)
            e_local = e.tz_convert(cal.tz).tz_localize(None)
            lo, hi = sorted((s_local, e_local))
            count, total, d = 0, 0.0, lo.date()
            while d <= hi.date():
                if working(d):
                    count += d > lo.date()
                    opening = pd.Timestamp(d) + pd.Timedelta(hours=o_h, minutes=o_m)
                    closing = pd.Timestamp(d) + pd.Timedelta(hours=c_h, minutes=c_m)
                    total += max((min(hi, closing) - max(lo, opening)).total_seconds() / 3600, 0.0)
                d += dt.timedelta(days=1)
            days.append(float(count) if e_local.date() >= s_local.date() else -float(count))
            hours.append(total if e_local >= s_local else -total)
        if pd.isna(s):
            deadlines.append(pd.NaT)
            continue
        d, left = s.tz_convert(cal.tz).date(), k
        while left > 0:
            d += dt.timedelta(days=1)
            left -= working(d)
        while left < 0:
            d -= dt.timedelta(days=1)
            left += working(d)
        deadlines.append(pd.Timestamp(d).tz_localize(cal.tz))
    return np.array(days), np.array(hours), deadlines


@pytest.mark.parametrize(
    "cal",
    [
        CAL,
        WorkingCalendar(tz="WITA", cuti_bersama_working=True, office_hours=("07:30", "15:30")),
        WorkingCalendar(
            closures=("2024-06-03", "2025-01-02"),
            extra_working_days=("2024-06-08", "2025-01-04"),
            weekend=(6,),
        ),
    ],
)
def test_vectorised_equals_loop(cal):
    rng = np.random.default_rng(2024)
    size = 2500
    lo = pd.Timestamp("2023-12-01", tz="UTC").value // 10**9
    hi = pd.Timestamp("2025-06-30", tz="UTC").value // 10**9
    start_s = rng.integers(lo, hi, size)
    end_s = start_s + rng.integers(-3 * 86_400, 25 * 86_400, size)
    start = pd.Series(pd.to_datetime(start_s, unit="s", utc=True))
    end = pd.Series(pd.to_datetime(end_s, unit="s", utc=True)).dt.tz_convert("Asia/Jayapura")
    start.iloc[::97] = pd.NaT
    end.iloc[::89] = pd.NaT
    n = rng.integers(-6, 7, size)
    days, hours, deadlines = _loop_reference(cal, start, end, n)

    np.testing.assert_array_equal(cal.working_days_between(start, end).to_numpy(), days)
    np.testing.assert_allclose(cal.working_hours_between(start, end).to_numpy(), hours, atol=1e-9)
    got = cal.add_working_days(start, n)
    assert got.isna().tolist() == [pd.isna(d) for d in deadlines]
    assert [d for d in got if not pd.isna(d)] == [d for d in deadlines if not pd.isna(d)]
    # The documented identity with numpy.busday_count when end's date >= start's date (extra
    # weekend days aside; numpy reverses differently, see test_reversed_span_is_antisymmetric).
    if not cal.extra_working_days:
        ok = (start.notna() & end.notna()).to_numpy()
        ds = start.dt.tz_convert(cal.tz).dt.tz_localize(None).to_numpy().astype("datetime64[D]")[ok]
        de = end.dt.tz_convert(cal.tz).dt.tz_localize(None).to_numpy().astype("datetime64[D]")[ok]
        forward = de >= ds
        assert forward.sum() > 2000 and (~forward).sum() > 50
        one = np.timedelta64(1, "D")
        numpy_count = np.busday_count(
            ds + one, de + one, weekmask=cal.weekmask, holidays=cal.holiday_array(2023, 2025)
        )
        np.testing.assert_array_equal(days[ok][forward], numpy_count[forward])


def test_reversed_span_is_antisymmetric():
    # Fri -> the Monday before: minus the 4 working days Tue-Fri. numpy.busday_count with the same
    # +1-day arguments would give -3, because it counts (end, begin] for reversed arguments.
    fri, mon = ts("2024-01-12 09:00"), ts("2024-01-08 09:00")
    assert CAL.working_days_between(fri, mon) == -CAL.working_days_between(mon, fri) == -4
    one = np.timedelta64(1, "D")
    assert (
        np.busday_count(np.datetime64("2024-01-12") + one, np.datetime64("2024-01-08") + one) == -3
    )
    sat, thu = ts("2024-01-13 10:00"), ts("2024-01-11 10:00")
    assert CAL.working_days_between(sat, thu) == -1  # minus Friday
    assert CAL.working_hours_between(sat, thu) == -CAL.working_hours_between(thu, sat) == -14.0


# ------------------------------------------------------------------ calendar object and cache


def test_calendar_is_plain_frozen_data():
    cal = WorkingCalendar(
        tz="WITA", closures=("2024-06-03",), closure_reasons=(("2024-06-04", "audit"),)
    )
    assert cal.closures == (dt.date(2024, 6, 3), dt.date(2024, 6, 4))
    assert pickle.loads(pickle.dumps(cal)) == cal
    with pytest.raises(FrozenInstanceError):
        cal.tz = "WIB"  # type: ignore[misc]
    assert cal.weekmask == "1111100"
    with pytest.raises(ValueError, match="opening must be before closing"):
        WorkingCalendar(office_hours=("16:00", "08:00"))


def test_holidays_are_computed_once_per_year_range(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # nothing cached yet
    calls = []
    real = holidays.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(tables.holidays_lib, "country_holidays", counting)
    tables.holiday_rows.cache_clear()
    calmod._day_table.cache_clear()
    cal = WorkingCalendar(closures=("2024-02-01",))
    pairs = (series("2024-01-08 09:00"), series("2024-04-16 09:00"))
    cal.working_days_between(*pairs)
    first = len(calls)
    assert first > 0
    cal.working_days_between(*pairs)
    cal.working_hours_between(*pairs)
    cal.is_working_day(series("2025-03-03 09:00"))  # same decade block
    cal.holidays_between("2024-01-01", "2024-12-31")
    assert len(calls) == first


def test_holiday_tables_are_kept_in_the_user_cache(monkeypatch, tmp_path):
    # computing a table imports every country of the holidays package (0.1 s): a later run
    # reads it from the cache, as it was computed
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    tables.holiday_rows.cache_clear()
    computed = tables.holiday_rows("ID", 2020, 2029)
    assert ("2024-08-17", "Independence Day", "public") in [
        (d.isoformat(), n, c) for d, n, c in computed]
    stored = list((tmp_path / "sopaudit" / "holidays").iterdir())
    assert [p.name for p in stored] == [f"ID-2020-2029-holidays-{holidays.__version__}.json"]

    def not_again(*args, **kwargs):
        raise AssertionError("computed again")

    monkeypatch.setattr(tables.holidays_lib, "country_holidays", not_again)
    tables.holiday_rows.cache_clear()
    assert tables.holiday_rows("ID", 2020, 2029) == computed
    tables.warm_holidays("ID")  # nothing to import: the table is cached
    monkeypatch.undo()

    # a damaged or foreign file is computed again and replaced
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    for damage in ('{"not": "a table"}', '[["2024-08-17", 17, "public"]]', "[[", '[["17-08-2024", "x", "public"]]'):
        stored[0].write_text(damage, encoding="utf-8")
        tables.holiday_rows.cache_clear()
        assert tables.holiday_rows("ID", 2020, 2029) == computed
        assert tables._table_rows(json.loads(stored[0].read_text(encoding="utf-8"))) == computed
    tables.holiday_rows.cache_clear()


def test_supported_countries_are_read_from_the_registry():
    assert all(tables.supported(c) for c in holidays.list_supported_countries())  # alpha-2 and -3
    assert tables.supported("ID") and tables.supported("IDN")
    assert not tables.supported("XX") and not tables.supported("INDONESIA") and not tables.supported("Indonesia")
    with pytest.raises(ValueError, match="no calendar for country 'XX'"):
        WorkingCalendar(country="XX")


# ------------------------------------------------------------------ closures files


def test_closures_csv_semicolon_day_first(tmp_path):
    path = tmp_path / "closures.csv"
    path.write_text(
        "\ufefftanggal;keterangan\n# maintenance\n03/06/2024;renovasi gedung\n2024-06-04;audit\n\n",
        encoding="utf-8",
    )
    assert load_closures(path) == (
        (dt.date(2024, 6, 3), "renovasi gedung"),
        (dt.date(2024, 6, 4), "audit"),
    )
    cal = WorkingCalendar().with_closures_file(path)
    assert cal.working_days_between(ts("2024-06-03 09:00"), ts("2024-06-07 09:00")) == 3
    assert cal.holidays_between("2024-06-01", "2024-06-05")["name"].tolist() == [
        "Pancasila Day",
        "renovasi gedung",
        "audit",
    ]


def test_closures_yaml(tmp_path):
    path = tmp_path / "closures.yaml"
    path.write_text(
        "closures:\n  - {date: 2024-06-03, reason: renovasi}\n  - date: 04/06/2024\n    reason: audit\n"
    )
    assert load_closures(path) == (
        (dt.date(2024, 6, 3), "renovasi"),
        (dt.date(2024, 6, 4), "audit"),
    )


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "c.csv",
            "date,reason\n2024-06-03,renovasi\n2024-13-01,audit\n",
            r"c\.csv, line 3: '2024-13-01' is not a date.*YYYY-MM-DD",
        ),
        ("c.csv", "date,reason\n2024-06-03,  \n", r"line 2: the reason for 2024-06-03 is empty"),
        (
            "c.csv",
            "date,reason\n2024-06-03,a\n03/06/2024,b\n",
            r"line 3: 2024-06-03 is already listed on line 2",
        ),
        (
            "c.csv",
            "day,why\n2024-06-03,a\n",
            r"line 1: the header must have a 'date' and a 'reason'",
        ),
        ("c.csv", "date,reason\n2024-06-03\n", r"line 2: expected 2 ','-separated fields"),
        (
            "c.yaml",
            "- {date: 2024-06-03, reason: a}\n- {date: 2024-06-04}\n",
            r"c\.yaml, line 2: each closure needs 'date' and 'reason'",
        ),
        ("c.yaml", "- {date: 31/02/2024, reason: a}\n", r"line 1: '31/02/2024' is not a date"),
        ("c.json", "[]", r"unknown closures file type"),
    ],
)
def test_bad_closures_files(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputFileError, match=message):
        load_closures(path)


def test_missing_closures_file(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        WorkingCalendar().with_closures_file(tmp_path / "nope.csv")
