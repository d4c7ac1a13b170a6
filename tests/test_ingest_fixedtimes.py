"""The numpy reader of fixed-layout times (ingest/fixedtimes.py) reads a value only when it reads
it exactly as the strict strptime path does, and leaves every other value to that path."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from sopaudit.ingest.fixedtimes import parse_fixed
from sopaudit.ingest.timestamps import _FAST, MONTHS, _numbered_months, _strptime_strict, parse_fast

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FORMATS = [f + z for fam in ("iso", "dayfirst", "monthfirst") for f in _FAST[fam] for z in ("", "%z")]


NAMED = [f + z for f in _FAST["named"] for z in ("", "%z")]


def _reference(values: list, fmt: str) -> list:
    """The strict strptime path alone (month names numbered per distinct name first)."""
    arr = pa.array(values, pa.string())
    if " %B " in fmt:
        arr, fmt = _numbered_months(arr), fmt.replace(" %B ", "/%m/", 1)
    return _strptime_strict(arr, fmt).to_pylist()


def _compare(values: list, fmt: str) -> tuple[list, int]:
    """The values on which parse_fixed (where it reads a value) or the whole fast path
    (parse_fast) disagrees with the strict strptime path, and how many parse_fixed read."""
    us, ok = parse_fixed(pa.array(values, pa.string()), fmt, MONTHS)
    ref = _reference(values, fmt)
    fast = parse_fast(pa.array(values, pa.string()), fmt).to_pylist()
    wrong = [(fmt, v, got, want) for v, got, read, want in zip(values, us.tolist(), ok.tolist(), ref, strict=True)
             if read and got != want]
    wrong += [(fmt, v, "parse_fast", f, want) for v, f, want in zip(values, fast, ref, strict=True) if f != want]
    return wrong, int(ok.sum())


def _write(t: dt.datetime, fmt: str, zone: str) -> str:
    return t.strftime(fmt.replace("%z", "")) + zone


def test_reads_the_instants_of_an_export():
    values = ["2024-01-17 13:34:27+07:00", "2024-01-17 13:34:27-05:30", "2024-01-17 13:34:27+0900",
              "2024-01-17 13:34:27Z", "2024-12-31 23:59:59+00:00", None, "2024-02-29 08:00:00+07:00"]
    us, ok = parse_fixed(pa.array(values), "%Y-%m-%d %H:%M:%S%z")
    want = ["2024-01-17T06:34:27", "2024-01-17T19:04:27", "2024-01-17T04:34:27", "2024-01-17T13:34:27",
            "2024-12-31T23:59:59"]
    assert us[:5].tolist() == [int(np.datetime64(w, "us").astype(np.int64)) for w in want]
    # a null and 29 February are left to the slower paths (the per-value parser judges leap days)
    assert ok.tolist() == [True] * 5 + [False, False]
    assert parse_fast(pa.array(values), "%Y-%m-%d %H:%M:%S%z").to_pylist()[5:] == [None, None]


@pytest.mark.parametrize("fmt", FORMATS)
def test_odd_values_are_read_as_strptime_reads_them_or_not_at_all(fmt):
    base = dt.datetime(2024, 1, 7, 9, 5, 3)
    good = _write(base, fmt, "+07:00" if fmt.endswith("%z") else "")
    odd = [good, good.replace("2024", "0999"), good.replace("07", "00", 1), good.replace("01", "13", 1),
           good.replace("09", "24", 1), good.replace("05", "60", 1), " " + good, good + " ", good.replace("-", "/"),
           good.replace("2024", "２０２４"), good[:-1], good + "0", good.replace(" ", "  ", 1), "", "x" * len(good)]
    if fmt.endswith("%z"):
        odd += [good[:-6] + z for z in ("+23:59", "-23:59", "+24:00", "+07:60", "+0700", "-0530", "Z", "z", "+07",
                                         "*07:00", "+07-00", "+99:99")]
    wrong, read = _compare(odd, fmt)
    assert wrong == [] and read >= 1


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(FORMATS),
       st.lists(st.tuples(st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9999, 12, 31)),
                          st.sampled_from(["+07:00", "-05:30", "+0800", "Z", "+23:59", "+24:00", "-00:00"]),
                          st.integers(0, 40), st.integers(0, 9)), min_size=1, max_size=30))
def test_random_values_and_damaged_ones_agree_with_strptime(fmt, items):
    values = []
    for t, zone, where, digit in items:
        text = _write(t.replace(microsecond=0), fmt, zone if fmt.endswith("%z") else "")
        if where < len(text) and where % 3 == 0:  # a character changed: a digit, or a separator
            text = text[:where] + str(digit) + text[where + 1:]
        values.append(text)
    assert _compare(values, fmt)[0] == []


def test_other_codes_are_not_read_here():
    assert parse_fixed(pa.array(["17 Jan 2024"]), "%d %b %Y") is None
    assert parse_fixed(pa.array(["13:34"]), "%H:%M") is None
    assert parse_fixed(pa.array([1, 2]), "%Y-%m-%d") is None


def test_a_slice_of_a_larger_array_and_mixed_lengths():
    values = pa.array(["x", "2024-01-17 13:34:27", "2024-1-7 13:34:27", "2024-01-17 13:34:28"])[1:]
    us, ok = parse_fixed(values, "%Y-%m-%d %H:%M:%S")
    assert ok.tolist() == [True, False, True]
    assert us[2] - us[0] == 1_000_000


@pytest.mark.parametrize("fmt", NAMED)
def test_month_names_are_read_as_the_numbered_path_reads_them(fmt):
    zone = "+07:00" if fmt.endswith("%z") else ""
    values = [_write(dt.datetime(2024, m, d, 9, 5, 3), fmt.replace("%B", f"[{m}]"), zone)
              for m in range(1, 13) for d in (1, 9, 28)]
    names = ["Januari", "PEBRUARI", "maret", "Apr", "Mei", "Juni", "Jul", "Agt", "September", "Okt", "Nopember", "Des"]
    values = [v.replace(f"[{m}]", names[m - 1]) for v in values for m in range(1, 13) if f"[{m}]" in v]
    odd = [v.replace(" ", "  ", 1) for v in values[:3]] + [v.lstrip("0") for v in values[:5]]
    odd += [v.replace("Januari", "Januarx") for v in values[:4]] + [v.replace("Januari", "Janu4ri") for v in values[:4]]
    odd += [v.replace("Mei", "May") for v in values[16:20]] + [v.replace("Mei", "M\u00e9i") for v in values[16:20]]
    odd += [v.replace("28 PEBRUARI", "30 PEBRUARI") for v in values if "28 PEBRUARI" in v]
    assert _compare(values + odd + ["", "17  2024"], fmt)[0] == []
    assert _compare(values, fmt) == ([], len(values))  # every well-formed name is read here


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(st.sampled_from(NAMED),
       st.lists(st.tuples(st.datetimes(dt.datetime(1000, 1, 1), dt.datetime(9999, 12, 31)),
                          st.sampled_from(sorted(MONTHS)), st.sampled_from(["+07:00", "Z", "-0530"]),
                          st.booleans()), min_size=1, max_size=30))
def test_random_month_names_agree_with_the_numbered_path(fmt, items):
    values = []
    for t, name, zone, upper in items:
        text = _write(t.replace(microsecond=0), fmt.replace("%B", "[m]"), zone if fmt.endswith("%z") else "")
        values.append(text.replace("[m]", name.upper() if upper else name.title()))
    assert _compare(values, fmt)[0] == []


def _column(batches: list[list], spec: str = "auto"):
    from sopaudit.ingest.columns import TimeColumn

    col = TimeColumn("waktu", spec, "log.csv")
    for b in batches:
        col.add(pa.array(b, pa.string()))
    n = sum(len(b) for b in batches)
    return col, col.finish(np.arange(1, n + 1))


@pytest.mark.parametrize("spec", ["auto", "epoch"])
def test_epoch_digits_read_as_numbers_give_what_parsing_every_value_gives(spec):
    from sopaudit.ingest.timestamps import parse_text

    first = [str(1705473267 + 60 * i) for i in range(50)]
    second = ["1705473267", " 1705473268", "1705473269.5", "+1705473270", None, "", "17054732xx", "99", "0001705473271"]
    col, times = _column([first, second], spec)
    assert col.numeric
    ref = parse_text(pa.array(first + second, pa.string()), spec)
    assert times.us.tolist() == ref.us.tolist()
    assert times.aware.tolist() == ref.aware.tolist()
    assert dict(times.formats) == {"epoch seconds (1735628700)": int(ref.ok.sum())}


def test_plain_numbers_of_two_kinds_are_still_the_error_asking_for_the_format():
    from sopaudit.core.errors import MappingError

    with pytest.raises(MappingError, match="several kinds"):
        _column([[str(1705473267 + i) for i in range(20)], ["45000"]])
    with pytest.raises(MappingError, match="several kinds"):  # the other kind among the slow values
        _column([[str(1705473267 + i) for i in range(20)], ["45000.5"]])


def test_excel_serial_digits_are_local_times():
    col, times = _column([["45000", "45001", "45002.25"]])
    assert col.numeric
    day = int(np.datetime64("2023-03-15", "us").astype(np.int64))
    assert times.us.tolist() == [day, day + 86_400_000_000, day + 2 * 86_400_000_000 + 6 * 3_600_000_000]
    assert not times.aware.any()
