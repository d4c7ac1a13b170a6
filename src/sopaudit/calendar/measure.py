"""Time spans measured in a unit of the working-day calendar: minutes and hours (office hours
across dates), working days, calendar days; vectorised over UTC nanoseconds. Used by the time
standards and by the open-case decision."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopaudit.calendar.workdays import WorkingCalendar

UNITS = ("minutes", "hours", "working_days", "days")
NAT = np.iinfo(np.int64).min
_NS_PER_HOUR = 3_600_000_000_000
# Measured values are rounded to this many decimals before comparing with the limit, so that
# 10 minutes computed through hours (0.1666... h * 60) is not read as 10.000000000000002 > 10.
DECIMALS = 6


def stamps(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC")


def local_days(ns: np.ndarray, tz: str) -> np.ndarray:
    return stamps(ns).tz_convert(tz).tz_localize(None).to_numpy().astype("datetime64[D]")


# --------------------------------------------------------------------- measuring time spans


def measure(start_ns: np.ndarray, end_ns: np.ndarray, unit: str, calendar: WorkingCalendar) -> np.ndarray:
    """Time from start to end (UTC nanoseconds) in `unit`, counted as docs/time-and-roles.md says.

    NaN where either is missing. Negative when end is before start.
    """
    if unit not in UNITS:
        raise ValueError(f"unknown time unit {unit!r}; use one of {', '.join(UNITS)}")
    out = np.full(start_ns.shape, np.nan)
    ok = (start_ns != NAT) & (end_ns != NAT)
    if not ok.any():
        return out
    s, e = start_ns[ok], end_ns[ok]
    if unit == "working_days":
        value = np.asarray(calendar.working_days_between(stamps(s), stamps(e)), dtype=np.float64)
    else:
        ds, de = local_days(s, calendar.tz), local_days(e, calendar.tz)
        if unit == "days":
            value = (de - ds).astype(np.float64)
        else:
            value = (e - s) / _NS_PER_HOUR
            apart = ds != de  # only spans over several dates need the office-hours calendar
            if apart.any():
                value[apart] = calendar.working_hours_between(stamps(s[apart]), stamps(e[apart]))
            if unit == "minutes":
                value = value * 60.0
    out[ok] = np.round(value, DECIMALS)
    return out
