"""Conformance and service-standard compliance per month of the case start (local time)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sopaudit.analysis import stats
from sopaudit.analysis.measures import finished_cases

TREND_COLUMNS = ["month", "cases", "conforming", "rate", "ci_low", "ci_high", "service_measured",
                 "service_within", "service_rate"]


def monthly_trend(result) -> pd.DataFrame:
    """One row per month: finished cases, conforming ones and the rate with its Wilson interval,
    and the cases within the service standard among those measured."""
    fin = finished_cases(result)
    if fin.empty:
        return pd.DataFrame(columns=TREND_COLUMNS)
    tz = result.provenance.get("parameters", {}).get("timezone") or "UTC"
    month = pd.to_datetime(fin["start"], utc=True).dt.tz_convert(tz).dt.strftime("%Y-%m")
    within = fin["within_service_standard"] if "within_service_standard" in fin else pd.Series(np.nan, fin.index)
    frame = pd.DataFrame({"month": month.to_numpy(), "conforming": fin["conforming"].astype(bool).to_numpy(),
                          "measured": within.notna().to_numpy(),
                          "within": within.fillna(False).astype(bool).to_numpy()})
    g = frame.groupby("month", sort=True)
    out = pd.DataFrame({"cases": g.size(), "conforming": g["conforming"].sum(),
                        "service_measured": g["measured"].sum(), "service_within": g["within"].sum()})
    out = out.reset_index()
    out["rate"] = out["conforming"] / out["cases"]
    ci = [stats.wilson(int(c), int(n)) for c, n in zip(out["conforming"], out["cases"], strict=True)]
    out["ci_low"] = [c[0] for c in ci]
    out["ci_high"] = [c[1] for c in ci]
    out["service_rate"] = np.where(out["service_measured"] > 0,
                                   out["service_within"] / out["service_measured"].where(out["service_measured"] > 0, 1),
                                   np.nan)
    return out[TREND_COLUMNS].astype({"cases": int, "conforming": int, "service_measured": int, "service_within": int})
