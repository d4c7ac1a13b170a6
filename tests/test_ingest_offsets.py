"""Times with a UTC offset or zone: the same instants through the per-value parser and through
the fixed-format fast path, for every family the ingest reads, mixed offsets in one column."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import sopaudit as sa
from sopaudit.ingest.timestamps import parse_text

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
NOW = pd.Timestamp("2030-01-01", tz="UTC")

# value -> the UTC instant it names (written by hand)
HAND = {
    "2024-01-17 13:34:27+07:00": "2024-01-17T06:34:27",
    "2024-01-17 13:34:27+08:00": "2024-01-17T05:34:27",
    "2024-01-17T13:34:27-05:30": "2024-01-17T19:04:27",
    "2024-01-17 13:34:27+0900": "2024-01-17T04:34:27",
    "2024-01-17 13:34:27Z": "2024-01-17T13:34:27",
    "2024-01-17 13:34+07": "2024-01-17T06:34:00",
    "2024-01-17T00:15:30.250+07:00": "2024-01-16T17:15:30.250000",
    "2024/01/17 13:34:27 WITA": "2024-01-17T05:34:27",
    "17/01/2024 13.34 WIB": "2024-01-17T06:34:00",
    "17-01-2024 13:34:27 +07:00": "2024-01-17T06:34:27",
    "17 Januari 2024 13:34 WIT": "2024-01-17T04:34:00",
    "Rabu, 17 Jan 2024 pukul 13.34 UTC": "2024-01-17T13:34:00",
    "2 Agustus 2024 08:00+08:00": "2024-08-02T00:00:00",
    "Jan 17, 2024 1:34 PM+07:00": "2024-01-17T06:34:00",
    "Dec 31, 2024 11:30 PM-05:00": "2025-01-01T04:30:00",
    "31/12/2024 23:30 GMT": "2024-12-31T23:30:00",
}


def utc(text: str) -> np.int64:
    return np.datetime64(text, "us").astype(np.int64)


def read_csv(tmp_path, values: list[str], time_format: str | None = None):
    path = tmp_path / "log.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["case", "act", "time"])
        w.writerows([f"c{i:05d}", "a", v] for i, v in enumerate(values))
    return sa.read_log(path, case="case", activity="act", time="time", time_format=time_format, now=NOW)


def instants(log) -> dict[int, np.int64]:
    """UTC microseconds by source row."""
    us = log["time:timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]").astype(np.int64)
    return dict(zip(log["sopaudit:row"].tolist(), us, strict=True))


def test_hand_written_instants_per_value():
    parsed = parse_text(pa.array(list(HAND)), "auto", "dayfirst")
    assert parsed.ok.all() and parsed.aware.all()
    assert parsed.us.tolist() == [utc(t) for t in HAND.values()]


def test_hand_written_instants_through_read_log(tmp_path):
    log = read_csv(tmp_path, list(HAND))
    got = instants(log)
    assert [got[row] for row in range(1, len(HAND) + 1)] == [utc(t) for t in HAND.values()]
    assert log.attrs["sopaudit"].rejected == ()


def _mixed(n: int, seed: int = 4) -> tuple[list[str], list[int]]:
    """ISO times with mixed offsets and their UTC microseconds."""
    rng = np.random.default_rng(seed)
    base = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64) + rng.integers(0, 365 * 86_400, n)
    offsets = rng.choice(["+07:00", "+08:00", "+09:00", "-05:30", "Z", "+0700"], n)
    minutes = {"+07:00": 420, "+08:00": 480, "+09:00": 540, "-05:30": -330, "Z": 0, "+0700": 420}
    values = [f"{str(np.datetime64(int(t), 's')).replace('T', ' ')}{z}" for t, z in zip(base, offsets, strict=True)]
    return values, ((base - np.array([minutes[z] for z in offsets]) * 60) * 1_000_000).tolist()


def test_mixed_offsets_in_one_column_read_by_the_fast_path():
    # The first batch fixes a format with %z; every batch is then read with one strptime call,
    # and what it cannot read (a zone name, no zone, a day that does not exist) goes through the
    # per-value parser.
    from sopaudit.ingest.columns import TimeColumn

    values, expected = _mixed(3000)
    odd = ["2024-03-04 08:15:00 WIB", "2024-03-04 08:15:00", "2024-02-30 08:15:00+07:00"]
    col = TimeColumn("time", "auto", "log.csv")
    col.add(pa.array(values[:2000]))
    assert col.fmt == "%Y-%m-%d %H:%M:%S%z"
    col.add(pa.array(values[2000:] + odd))
    times = col.finish(np.arange(1, 3004))
    assert times.us[:3000].tolist() == expected
    assert times.aware.tolist() == [True] * 3001 + [False, False]
    assert times.us[3000] == utc("2024-03-04T01:15:00")  # WIB
    assert times.us[3001] == utc("2024-03-04T08:15:00")  # naive: wall clock, localised later
    assert times.us[3002] == np.iinfo(np.int64).min
    assert dict(times.formats) == {"year-first (2024-12-31 14:05)": 3002}
    # the per-value parser gives the same instants
    per_value = parse_text(pa.array(values), "auto")
    assert per_value.aware.all() and per_value.us.tolist() == expected


def test_mixed_offsets_through_read_log(tmp_path):
    values, expected = _mixed(500, seed=9)
    log = read_csv(tmp_path, values + ["2024-03-04 08:15:00 WIB", "2024-03-04 08:15:00"])
    got = instants(log)
    assert [got[row] for row in range(1, 501)] == expected
    # WIB and the naive time (zone Asia/Jakarta) are the same instant
    assert got[501] == got[502] == utc("2024-03-04T01:15:00")
    assert log["time:timestamp"].dt.tz is not None and str(log["time:timestamp"].dt.tz) == "Asia/Jakarta"


def test_offsets_only_in_later_batches_are_kept(tmp_path):
    # Naive first, offsets afterwards: the zone flags of both kinds stay aligned with their rows.
    values = ["2024-03-04 08:15:00"] * 5 + ["2024-03-04 08:15:00+09:00"] * 5
    got = instants(read_csv(tmp_path, values))
    assert [got[r] for r in range(1, 11)] == [utc("2024-03-04T01:15:00")] * 5 + [utc("2024-03-03T23:15:00")] * 5


def test_same_instants_as_the_per_row_parser_on_a_generated_sample(tmp_path):
    # times_with_zones.csv: 400 generated values of every family, with and without zones, and
    # the instants the per-row parser (before zones were parsed per distinct offset) gave them:
    # UTC when the value has a zone, wall clock when it has none, empty when unreadable.
    with open(FIXTURES / "times_with_zones.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    values = [r["value"] for r in rows]
    parsed = parse_text(pa.array(values), "auto", "dayfirst")
    assert parsed.ok.tolist() == [r["instant"] != "" for r in rows]
    assert parsed.aware.tolist() == [r["zone_given"] == "yes" for r in rows]
    assert [int(u) for u, ok in zip(parsed.us, parsed.ok, strict=True) if ok] == [utc(r["instant"]) for r in rows if r["instant"]]
    # and the whole reader: naive values are Jakarta wall clock (UTC+7)
    log = read_csv(tmp_path, values, time_format="dayfirst")
    got = instants(log)
    for i, r in enumerate(rows, start=1):
        if r["instant"]:
            shift = 0 if r["zone_given"] == "yes" else 7 * 3600 * 1_000_000
            assert got[i] == utc(r["instant"]) - shift, r["value"]
        else:
            assert i not in got
    assert len(log.attrs["sopaudit"].rejected) == sum(r["instant"] == "" for r in rows)


@pytest.mark.parametrize("value", ["2024-01-17 13:34:27+07:00", "2024-01-17 13:34:27+0700"])
def test_fast_format_reads_offsets(value):
    from sopaudit.ingest.timestamps import fast_format, parse_fast

    sample = pa.array([value, value.replace("13:34", "14:00")])
    fmt = fast_format(sample, parse_text(sample))
    assert fmt == "%Y-%m-%d %H:%M:%S%z"
    assert parse_fast(sample, fmt).to_pylist()[0] == utc("2024-01-17T06:34:27")


ODD_DATES = {
    "iso": ["2024-01-17", "24-01-17", "2024-1-7", "2024-02-30", "2023-02-29", "2024-02-29", "2024-04-31",
            "2024-13-01", "0001-01-01", " 2024-01-17", "2024/01/17"],
    "dayfirst": ["17/01/2024", "30/02/2024", "31/04/2024", "1/1/2024", "17/13/2024", "17/01/24", "17-01-2024",
                 "00/01/2024", "17/01/0024"],
    "named": ["2 Agustus 2024", "02 Agt 2024", "31 Nop 2024", "31 Juni 2024", "29 Peb 2023", "29 Peb 2024",
              "5 AGUSTUS 2024", "5 Agustus. 2024", "5  Agustus 2024", "Senin, 5 Agt 2024", "12-Okt-2024",
              "5 Foo 2024", "05 Mei 24", "5 Dec 2024", "123 Mei 2024", "0 Mei 2024"],
}
ODD_TIMES = [" 13:34:27", " 13:34:60", " 24:00:00", " 1:2:3", " 13:34", " 13:34:27.5", "T13:34:27", "  13:34:27", ""]
ODD_ZONES = ["", "+07:00", "+0700", "Z", "z", " +07:00", "+07", "+7:00", "+0799", "+24:00", "+07:00:00", " WIB"]


@pytest.mark.parametrize("family", sorted(ODD_DATES))
def test_the_fast_path_reads_nothing_the_parser_reads_differently(family):
    # Arrow's strptime rolls 30 February over to 1 March and takes seconds 60, one-digit minutes
    # and two-digit years, and knows English month names only; values it would read differently
    # are left to the per-value parser.
    from sopaudit.ingest.timestamps import _FAST, parse_fast

    values = [d + t + z for d in ODD_DATES[family] for t in ODD_TIMES for z in ODD_ZONES]
    slow = parse_text(pa.array(values), "auto", "dayfirst" if family == "named" else family)
    read = 0
    for fmt in _FAST[family]:
        for zone in ("", "%z"):
            fast = parse_fast(pa.array(values), fmt + zone).to_pylist()
            for v, got, ok, us, aware in zip(values, fast, slow.ok, slow.us, slow.aware, strict=True):
                if got is not None:
                    read += 1
                    assert ok and got == us and aware == (zone == "%z"), (fmt + zone, v)
    assert read > 50  # the fast path does read the plain values


def _dayfirst_batch(start: str, n: int) -> list[str]:
    t = np.datetime64(start, "s") + np.arange(n) * 60
    return [str(v).replace("T", " ") for v in t]


def test_day_first_order_settled_on_the_first_batch_reads_by_the_fast_path():
    # A log sorted by time: its first 5,000 distinct times are all 1-4 January (both numbers at
    # most 12), later ones in the same batch settle the order; the whole batch is the sample.
    from sopaudit.ingest.columns import TimeColumn

    iso = _dayfirst_batch("2024-01-01T08:00", 30_000)  # to 21 January
    values = [f"{v[8:10]}/{v[5:7]}/{v[:4]} {v[11:]}" for v in iso]
    col = TimeColumn("waktu", "auto", "log.csv")
    col.add(pa.array(values))
    assert col.fmt == "%d/%m/%Y %H:%M:%S" and col.order == "dayfirst"
    times = col.finish(np.arange(1, 30_001))
    assert times.us.tolist() == [utc(v) for v in iso]
    assert times.order == "dayfirst" and not times.conflict.any()


def test_a_later_month_first_date_contradicts_the_order_of_the_first_batch():
    from sopaudit.core.errors import MappingError
    from sopaudit.ingest.columns import TimeColumn

    col = TimeColumn("waktu", "auto", "log.csv")
    col.add(pa.array(["02/01/2024 08:00:00", "13/01/2024 09:00:00"]))
    col.add(pa.array(["03/01/2024 10:00:00", "01/31/2024 11:00:00"]))
    with pytest.raises(MappingError, match=r"contradict each other: '13/01/2024 09:00:00' \(row 12\) can only be "
                                           r"day-first, '01/31/2024 11:00:00' \(row 14\) only month-first"):
        col.finish(np.arange(11, 15))


def test_indonesian_month_names_read_by_the_fast_path():
    from sopaudit.ingest.columns import TimeColumn

    months = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
              "Oktober", "Nopember", "Des"]
    iso = _dayfirst_batch("2024-01-01T08:00", 3000)
    iso = [f"2024-{m:02d}{v[7:]}" for m in range(1, 13) for v in iso[:250]]
    values = [f"{int(v[8:10])} {months[int(v[5:7]) - 1]} {v[:4]} {v[11:]}" for v in iso]
    col = TimeColumn("waktu", "auto", "log.csv")
    col.add(pa.array(values))
    assert col.fmt == "%d %B %Y %H:%M:%S" and col.fast_family == "named"
    col.add(pa.array(["29 Peb 2024 10:00:00", "30 Peb 2024 10:00:00", "5 Agt 2024 10.00"]))
    times = col.finish(np.arange(1, 3004))
    assert times.us[:3000].tolist() == [utc(v) for v in iso]
    assert times.us[3000] == utc("2024-02-29T10:00:00") and times.us[3001] == np.iinfo(np.int64).min
    assert times.us[3002] == utc("2024-08-05T10:00:00")
    assert dict(times.formats) == {"month name (31 Des 2024 14:05)": 3002}


def test_day_first_order_settled_by_a_later_batch_reads_by_the_fast_path():
    # batches of a sorted export: the first covers 1-4 January only, the second settles the order
    from sopaudit.ingest.columns import TimeColumn

    iso = _dayfirst_batch("2024-01-01T08:00", 12_000)  # to 9 January
    iso += _dayfirst_batch("2024-01-13T08:00", 3_000)
    values = [f"{v[8:10]}/{v[5:7]}/{v[:4]} {v[11:]}" for v in iso]
    col = TimeColumn("waktu", "auto", "log.csv")
    col.add(pa.array(values[:5000]))
    assert col.fmt is None and not col.started
    col.add(pa.array(values[5000:]))
    assert col.fmt == "%d/%m/%Y %H:%M:%S" and col.order == "dayfirst" and col.fast_rows == 10_000
    times = col.finish(np.arange(1, 15_001))
    assert times.us.tolist() == [utc(v) for v in iso]
    assert times.order == "dayfirst" and not times.conflict.any()
