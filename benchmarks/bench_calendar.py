"""Benchmark the working-day calendar on one million random (start, end) pairs over 2023-2025.

Compares sopaudit.calendar with a plain numpy.busday_count baseline (local dates, same holiday
array) in the same run. Not part of the test suite:

    .venv/bin/python benchmarks/bench_calendar.py [--pairs 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from sopaudit.calendar import WorkingCalendar


def random_pairs(n: int, seed: int = 7) -> tuple[pd.Series, pd.Series]:
    """Starts uniform over 2023-2025 (UTC instants), ends 0-30 days later at any time of day."""
    rng = np.random.default_rng(seed)
    lo = pd.Timestamp("2023-01-01", tz="UTC").value // 1_000_000_000
    hi = pd.Timestamp("2025-12-31", tz="UTC").value // 1_000_000_000
    start_s = rng.integers(lo, hi, n)
    end_s = start_s + rng.integers(0, 30 * 86_400, n)
    to_series = lambda s: pd.Series(pd.to_datetime(s, unit="s", utc=True))  # noqa: E731
    return to_series(start_s), to_series(end_s)


def baseline(cal: WorkingCalendar, start: pd.Series, end: pd.Series) -> np.ndarray:
    """The plain approach: local dates, then numpy.busday_count with the same holidays."""
    holidays = cal.holiday_array(2020, 2029)
    ds = start.dt.tz_convert(cal.tz).dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    de = end.dt.tz_convert(cal.tz).dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    one = np.timedelta64(1, "D")
    return np.busday_count(ds + one, de + one, weekmask=cal.weekmask, holidays=holidays)


def best_of(repeat: int, fn, *args) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    cal = WorkingCalendar()
    start, end = random_pairs(args.pairs)
    t0 = time.perf_counter()
    cal.working_days_between(start.iloc[:1], end.iloc[:1])  # first call builds the holiday cache
    warm = time.perf_counter() - t0

    t_base, base = best_of(args.repeat, baseline, cal, start, end)
    t_days, days = best_of(args.repeat, cal.working_days_between, start, end)
    t_hours, _ = best_of(args.repeat, cal.working_hours_between, start, end)
    assert np.array_equal(days.to_numpy(), base.astype(np.float64)), "results differ from baseline"

    print(
        f"pairs: {args.pairs:,}  (best of {args.repeat}; holiday cache build {warm * 1000:.0f} ms)"
    )
    print(f"numpy.busday_count baseline : {t_base:.3f} s")
    print(f"working_days_between        : {t_days:.3f} s  ratio {t_days / t_base:.2f}x baseline")
    print(f"working_hours_between       : {t_hours:.3f} s  ratio {t_hours / t_base:.2f}x baseline")


if __name__ == "__main__":
    main()
