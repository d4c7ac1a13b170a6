"""What a broken CSV costs: the fast pyarrow read of a clean export against the careful
line-by-line read that a stray quote or a mixed-in latin-1 line triggers (issue 13), and what
pandas.read_csv (the usual way into pm4py) makes of the same files.

    .venv/bin/python benchmarks/bench_csv_careful.py --rows 1000000

Prints seconds, events, rejected rows, and the ratio careful / clean.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

import sopaudit as sa
from sopaudit.core.columns import log_info


def write(path: Path, rows: int, broken: str | None) -> None:
    acts = ["PENDAFTARAN", "VERIFIKASI", "WAWANCARA", "PEMBAYARAN", "CETAK", "SERAH"]
    at = rows // 2
    with open(path, "wb") as fh:
        fh.write(b"no_permohonan,tahapan,waktu,petugas\n")
        for i in range(rows):
            act = acts[i % 6]
            if i == at and broken == "quote":
                act = '"' + act  # a stray quote that never closes
            line = f"P{i // 6:07d},{act},2024-0{1 + i % 9}-1{i % 10} 0{8 + i % 2}:{i % 60:02d}:00,petugas{i % 40}\n"
            data = line.encode()
            if i == at and broken == "latin1":
                data = data.replace(b"petugas", "pétugas".encode("latin-1"))
            fh.write(data)
        fh.write("P9999999,SERAH,2024-09-19 09:00:00,Jos\u00e9 \u2013 UTF-8\n".encode())


def sopaudit_read(path: Path) -> tuple[float, int, int]:
    t = time.perf_counter()
    log = sa.read_log(path, case="no_permohonan", activity="tahapan", time="waktu", resource="petugas")
    return time.perf_counter() - t, len(log), len(log_info(log).rejected)


def pandas_read(path: Path) -> tuple[float, int, str]:
    t = time.perf_counter()
    try:
        df = pd.read_csv(path, dtype=str, encoding="utf-8")
        return time.perf_counter() - t, len(df), "ok"
    except Exception as exc:  # noqa: BLE001 - reported as the baseline's outcome
        return time.perf_counter() - t, 0, type(exc).__name__


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        print(f"{'file':<8} {'rows':>10} {'sopaudit s':>10} {'events':>10} {'rejected':>8} {'x clean':>8}   "
              f"pandas.read_csv")
        for kind in (None, "quote", "latin1"):
            path = Path(tmp) / f"{kind or 'clean'}.csv"
            write(path, args.rows, kind)
            s, events, rejected = sopaudit_read(path)
            base = base or s
            ps, prows, outcome = pandas_read(path)
            print(f"{kind or 'clean':<8} {args.rows + 1:>10,} {s:>10.2f} {events:>10,} {rejected:>8,} "
                  f"{s / base:>8.2f}   {ps:.2f} s, {prows:,} rows, {outcome}")


if __name__ == "__main__":
    main()
