"""Rekap (wide layout) benchmark: one row per application, a date column per step.

Generates a CSV rekap (8 milestones, the time of day beside two of them, two officer columns, a
few blanks, day-first text dates) and measures, on the same file in the same run:

- `sopaudit.read_log` with `layout: wide` (reading, checks, conversion, quality report);
- the baseline a pm4py user writes: `pandas.read_csv`, `DataFrame.melt` per milestone, joining the
  date and time texts, `pandas.to_datetime(dayfirst)`, dropping blanks, `pm4py.format_dataframe`.

    .venv/bin/python benchmarks/bench_rekap.py                 # 200,000 rows (1.5 million events)
    .venv/bin/python benchmarks/bench_rekap.py --rows 50000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

STEPS = ["pengajuan", "pembayaran", "kedatangan", "pemeriksaan", "wawancara", "adjudikasi", "pencetakan", "penyerahan"]
TIMED = {"kedatangan", "penyerahan"}
OFFICER = {"wawancara", "penyerahan"}


def generate(path: Path, rows: int, seed: int = 7) -> int:
    """Write the rekap; returns the number of filled milestones (events)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    start = np.datetime64("2024-01-02") + rng.integers(0, 360, rows).astype("timedelta64[D]")
    cols = {"No Permohonan": [f"2024PAS{i:07d}" for i in range(rows)],
            "Jenis Layanan": rng.choice(["reguler", "percepatan"], rows)}
    day = start
    events = 0
    for step in STEPS:
        day = day + rng.integers(0, 2, rows).astype("timedelta64[D]")
        blank = rng.random(rows) < 0.05
        events += int((~blank).sum())
        text = pd.Series(pd.to_datetime(day).strftime("%d/%m/%Y")).where(~blank)
        cols[f"Tgl {step.title()}"] = text
        if step in TIMED:
            minutes = rng.integers(8 * 60, 16 * 60, rows)
            cols[f"Jam {step.title()}"] = pd.Series([f"{m // 60:02d}:{m % 60:02d}" for m in minutes]).where(~blank)
        if step in OFFICER:
            cols[f"Petugas {step.title()}"] = rng.choice([f"petugas{i:02d}" for i in range(40)], rows)
    pd.DataFrame(cols).to_csv(path, index=False)
    return events


def mapping() -> dict:
    ms = []
    for step in STEPS:
        m = {"step": step, "date": f"Tgl {step.title()}"}
        if step in TIMED:
            m["time"] = f"Jam {step.title()}"
        if step in OFFICER:
            m["resource"] = f"Petugas {step.title()}"
        ms.append(m)
    return {"layout": "wide", "case": "No Permohonan", "milestones": ms, "case_attributes": ["Jenis Layanan"],
            "time_format": "dayfirst", "tz": "Asia/Jakarta"}


def sopaudit_read(path: Path) -> int:
    import sopaudit as sa

    return len(sa.read_log(path, mapping=mapping()))


def baseline_read(path: Path) -> int:
    import pandas as pd
    import pm4py

    df = pd.read_csv(path, dtype=str)
    parts = []
    for step in STEPS:
        date = df[f"Tgl {step.title()}"]
        text = date + " " + df[f"Jam {step.title()}"].fillna("00:00") if step in TIMED else date
        part = pd.DataFrame({"case": df["No Permohonan"], "activity": step,
                             "time": pd.to_datetime(text, format="%d/%m/%Y %H:%M" if step in TIMED else "%d/%m/%Y"),
                             "resource": df[f"Petugas {step.title()}"] if step in OFFICER else None,
                             "jenis_layanan": df["Jenis Layanan"], "order": STEPS.index(step)})
        parts.append(part[date.notna()])
    long = pd.concat(parts, ignore_index=True)
    long["time"] = long["time"].dt.tz_localize("Asia/Jakarta")
    long = long.sort_values(["case", "time", "order"], kind="stable")
    log = pm4py.format_dataframe(long, case_id="case", activity_key="activity", timestamp_key="time")
    return len(log)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rekap.csv"
        events = generate(path, args.rows)
        print(f"rekap: {args.rows:,} rows, {events:,} filled milestones, {path.stat().st_size / 1e6:.1f} MB")
        results = {}
        for name, fn in (("sopaudit read_log (wide)", sopaudit_read), ("pandas melt + pm4py.format_dataframe", baseline_read)):
            t0 = time.perf_counter()
            n = fn(path)
            results[name] = time.perf_counter() - t0
            print(f"{name:40s} {results[name]:7.2f} s  {n:,} events  {n / results[name]:,.0f} events/s")
        a, b = results.values()
        print(f"ratio sopaudit / baseline: {a / b:.2f}")


if __name__ == "__main__":
    main()
