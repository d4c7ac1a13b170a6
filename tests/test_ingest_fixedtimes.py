"""The numpy reader of fixed-layout times (ingest/fixedtimes.py) reads a value only when it reads
it exactly as the strict strptime path does, and leaves every other value to that path."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from sopaudit.ingest.fixedtimes import parse_fixed
from sopaudit.ingest.timestamps import _FAST, _strptime_strict, parse_fast

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FORMATS = [f + z for fam in ("iso", "dayfirst", "monthfirst") for f in _FAST[fam] for z in ("", "%z")]


def _reference(values: list, fmt: str) -> list:
    return _strptime_strict(pa.array(values, pa.string()), fmt).to_pylist()


def _check(values: list, fmt: str) -> int:
    """parse_fixed agrees with the strict strptime path on every value it reads; returns how
    many it read."""
    us, ok = parse_fixed(pa.array(values, pa.string()), fmt)
    ref = _reference(values, fmt)
    for v, got, read, want in zip(values, us.tolist(), ok.tolist(), ref, strict=True):
        if read:
            assert got == want, (fmt, v)
    assert parse_fast(pa.array(values, pa.string()), fmt).to_pylist() == ref
    return int(ok.sum())


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
    assert _check(odd, fmt) >= 1


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
    _check(values, fmt)


def test_other_codes_are_not_read_here():
    assert parse_fixed(pa.array(["17 Jan 2024"]), "%d %b %Y") is None
    assert parse_fixed(pa.array(["13:34"]), "%H:%M") is None
    assert parse_fixed(pa.array([1, 2]), "%Y-%m-%d") is None


def test_a_slice_of_a_larger_array_and_mixed_lengths():
    values = pa.array(["x", "2024-01-17 13:34:27", "2024-1-7 13:34:27", "2024-01-17 13:34:28"])[1:]
    us, ok = parse_fixed(values, "%Y-%m-%d %H:%M:%S")
    assert ok.tolist() == [True, False, True]
    assert us[2] - us[0] == 1_000_000
