"""Ingest benchmark: generated 8-column CSV exports with each kind of time, and XES logs.

Measures `sopaudit.read_log` (rows per second, peak memory against the size of the resulting
DataFrame) and, in the same run on the same files, the baselines `pyarrow.csv.read_csv` (the raw
parse, types inferred, no mapping or checks), `pandas.read_csv` + `pm4py.format_dataframe` (CSV)
and `pm4py.read_xes` (XES). Every measurement runs in a fresh subprocess; peak memory is the peak
resident memory during the step (VmHWM, reset after the imports) minus the resident memory before
it.

The CSV exports differ only in how the time column is written (`--times`):
  naive     2024-01-17 13:34:27           year-first local time
  offset    2024-01-17 13:34:27+07:00     UTC offsets, mixed (+07:00/+08:00/+09:00 by office)
  dayfirst  17/01/2024 13:34:27
  named     17 Januari 2024 13:34:27      Indonesian month names
  epoch     1705473267                    epoch seconds
pm4py's format_dataframe is given what a user would give it: the strptime format (day-first), the
month names translated to English first (named), the numbers converted with unit="s" (epoch),
and its own default (mixed ISO with utc=True) for naive and offset times.

    .venv/bin/python benchmarks/bench_ingest.py                 # 10M rows, every kind (long)
    .venv/bin/python benchmarks/bench_ingest.py --rows 1000000 --times offset dayfirst --skip-xes
    .venv/bin/python benchmarks/bench_ingest.py --rows 1000000 --times offset --skip-xes --repeat 5

Targets (issues 5, 22): >= 1 million rows/s on a 2-core machine, peak memory < 3x the DataFrame;
times with offsets within 4x of pyarrow.csv.read_csv.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
COLUMNS = ["no_permohonan", "tahapan", "waktu", "petugas", "loket", "jenis_layanan", "kategori", "kantor"]
STEPS = ["PRA_PERMOHONAN", "BAYAR_PNBP", "ANTRIAN", "PERIKSA_BERKAS", "CEK_CEKAL", "VERIFIKASI_PENYELIA",
         "FOTO_SIDIK_JARI", "WAWANCARA", "CEK_PEMBAYARAN", "ADJUDIKASI", "CETAK", "UJI_KUALITAS",
         "LAMINASI", "SERAHKAN"]


TIMES = ("naive", "offset", "dayfirst", "named", "epoch")
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
             "Oktober", "November", "Desember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]


def time_texts(t, office, times: str):
    """The time column as text: `t` epoch seconds (local wall clock of WIB), written as `times`."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if times == "epoch":
        return pa.array(t - 7 * 3600).cast(pa.string())
    if times == "offset":
        # offices in three zones: the wall clock moves with the zone, the instant does not
        hours = np.array([7, 8, 9, 7])[office]
        local = pa.array((t + (hours - 7) * 3600).astype("datetime64[s]"))
        text = pc.strftime(local, format="%Y-%m-%d %H:%M:%S")
        return pc.binary_join_element_wise(text, pa.array(np.array(["+07:00", "+08:00", "+09:00"])[hours - 7]), "")
    stamps = pa.array(t.astype("datetime64[s]"))
    if times == "dayfirst":
        return pc.strftime(stamps, format="%d/%m/%Y %H:%M:%S")
    if times == "named":
        months = pa.array(np.array(MONTHS_ID)[pc.month(stamps).to_numpy() - 1])
        return pc.binary_join_element_wise(pc.strftime(stamps, format="%d"), months,
                                           pc.strftime(stamps, format="%Y %H:%M:%S"), " ")
    return pc.strftime(stamps, format="%Y-%m-%d %H:%M:%S")


def generate_csv(path: Path, rows: int, seed: int = 7, times: str = "naive") -> None:
    """An export as a passport office's system writes it: 10 events per application on average,
    rows in time order (applications interleaved), times written as `times`, 8 columns."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    chunk = 2_000_000
    start = np.datetime64("2024-01-02T08:00:00", "s").astype(np.int64)
    span = 365 * 86_400
    cases = max(rows // 10, 1)
    officers = np.array([f"petugas{i:02d}" for i in range(60)], dtype=object)
    counters = np.array([f"L{i:02d}" for i in range(8)], dtype=object)
    services = np.array(["baru", "penggantian", "hilang", "rusak"], dtype=object)
    groups = np.array(["umum", "lansia", "disabilitas", "anak"], dtype=object)
    offices = np.array(["Ketapang", "Makassar", "Jayapura", "Sambas"], dtype=object)
    steps = np.array(STEPS, dtype=object)
    with pcsv.CSVWriter(str(path), pa.schema([(c, pa.string()) for c in COLUMNS]),
                        write_options=pcsv.WriteOptions(quoting_style="none")) as writer:
        for lo in range(0, rows, chunk):
            n = min(chunk, rows - lo)
            # times increase through the file: each chunk covers its share of the year
            t0 = start + span * lo // rows
            t = np.sort(t0 + rng.integers(0, max(span * n // rows, 1), n))
            case = rng.integers(0, cases, n)
            office = rng.integers(0, 4, n)
            ids = pc.binary_join_element_wise("2024PAS", pc.utf8_lpad(pa.array(case).cast(pa.string()), 7, "0"), "")
            writer.write_table(pa.table({
                "no_permohonan": ids,
                "tahapan": pa.array(steps[rng.integers(0, len(steps), n)], pa.string()),
                "waktu": time_texts(t, office, times),
                "petugas": pa.array(officers[rng.integers(0, 60, n)], pa.string()),
                "loket": pa.array(counters[rng.integers(0, 8, n)], pa.string()),
                "jenis_layanan": pa.array(services[rng.integers(0, 4, n)], pa.string()),
                "kategori": pa.array(groups[rng.integers(0, 4, n)], pa.string()),
                "kantor": pa.array(offices[office], pa.string()),
            }))


@contextlib.contextmanager
def _quiet():
    """Silence file descriptors 1 and 2 (pm4py prints a banner when imported)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def generate_xes(path: Path, events: int) -> None:
    """An XES log of `events` events written by pm4py (for the XES comparison)."""
    import warnings

    import numpy as np
    import pandas as pd

    with _quiet():  # pm4py's banner
        import pm4py

    rng = np.random.default_rng(11)
    case = np.sort(rng.integers(0, max(events // 10, 1), events))
    frame = pd.DataFrame({
        "case:concept:name": [f"2024PAS{c:07d}" for c in case],
        "concept:name": np.array(STEPS, dtype=object)[rng.integers(0, len(STEPS), events)],
        "time:timestamp": pd.Timestamp("2024-01-02 08:00", tz="Asia/Jakarta")
        + pd.to_timedelta(np.sort(rng.integers(0, 365 * 86_400, events)), unit="s"),
        "org:resource": np.array([f"petugas{i:02d}" for i in range(60)], dtype=object)[rng.integers(0, 60, events)],
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm4py.write_xes(frame, str(path), case_id_key="case:concept:name", variant_str="line_by_line",
                        show_progress_bar=False)


# Each measurement is one of these snippets, run in a fresh interpreter. It prints one JSON line.
CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import psutil
import pandas as pd
import pm4py
import pyarrow.csv
import sopaudit
import sopaudit.ingest.read  # the lazy API's modules: imports are not what is measured
kind, path, times = sys.argv[1], sys.argv[2], sys.argv[3]
MONTHS_ID_EN


def high_water() -> int:
    # VmHWM (peak resident memory) can be reset, unlike ru_maxrss: imports do not count
    try:
        with open("/proc/self/status") as fh:
            return next(int(ln.split()[1]) * 1024 for ln in fh if ln.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
except OSError:
    pass
base = psutil.Process().memory_info().rss
t0 = time.perf_counter()
c0 = time.process_time()
if kind == "sopaudit-csv":
    df = sopaudit.read_log(path, case="no_permohonan", activity="tahapan", time="waktu", resource="petugas")
elif kind == "pyarrow":
    df = pyarrow.csv.read_csv(path)
elif kind == "pandas-pm4py":
    raw = pd.read_csv(path)
    fmt = None  # pm4py's default: mixed ISO, utc=True
    if times == "dayfirst":
        fmt = "%d/%m/%Y %H:%M:%S"
    elif times == "named":
        names = dict(zip(MONTHS_ID, MONTHS_EN))
        raw["waktu"] = raw["waktu"].str.replace(r"[A-Za-z]+", lambda m: names.get(m[0], m[0]), regex=True)
        fmt = "%d %B %Y %H:%M:%S"
    elif times == "epoch":
        raw["waktu"] = pd.to_datetime(raw["waktu"], unit="s", utc=True)
    df = pm4py.format_dataframe(raw, case_id="no_permohonan", activity_key="tahapan", timestamp_key="waktu",
                                timest_format=fmt)
elif kind == "sopaudit-xes":
    df = sopaudit.read_log(path)
elif kind == "pm4py-xes":
    df = pm4py.read_xes(path, show_progress_bar=False)
seconds = time.perf_counter() - t0
cpu = time.process_time() - c0
peak = high_water()
size = df.nbytes if kind == "pyarrow" else int(df.memory_usage(deep=True).sum())
print(json.dumps({"kind": kind, "rows": len(df), "seconds": seconds, "cpu": cpu, "df_bytes": size,
                  "peak_bytes": int(peak - base)}))
"""


REPEAT = 1  # runs per measurement (--repeat); each figure is the median of the runs


def measure(kind: str, path: Path, times: str = "") -> dict:
    child = CHILD.replace("MONTHS_ID_EN", f"MONTHS_ID, MONTHS_EN = {MONTHS_ID!r}, {MONTHS_EN!r}")
    runs = []
    for _ in range(REPEAT):
        out = subprocess.run([sys.executable, "-c", child, kind, str(path), times], capture_output=True,
                             text=True, check=False)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if out.returncode != 0 or not lines:
            raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
        runs.append({**json.loads(lines[-1]), "load": os.getloadavg()[0]})
    # on a shared machine single runs vary by a factor of two: the median of each figure
    return {k: (statistics.median(r[k] for r in runs) if k not in ("kind", "rows") else runs[0][k])
            for k in runs[0]}


def show(r: dict) -> str:
    # CPU time (all threads) beside the wall time: on a shared machine the wall time includes
    # waiting for a core
    return (f"{r['kind']:<14} {r['rows']:>11,} rows {r['seconds']:8.2f} s  {r['rows'] / r['seconds'] / 1e6:6.2f} M rows/s"
            f"  (CPU {r['cpu']:6.2f} s)"
            f"   DataFrame {r['df_bytes'] / 2**20:8.0f} MiB   peak {r['peak_bytes'] / 2**20:8.0f} MiB"
            f"   peak/DataFrame {r['peak_bytes'] / max(r['df_bytes'], 1):5.2f}   load {r['load']:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--xes-events", type=int, default=300_000)
    ap.add_argument("--times", nargs="+", choices=TIMES, default=list(TIMES),
                    help="kinds of time column to measure (default: all)")
    ap.add_argument("--skip-baseline", action="store_true", help="measure sopaudit only")
    ap.add_argument("--skip-xes", action="store_true", help="measure CSV only")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the median is shown")
    args = ap.parse_args()
    global REPEAT
    REPEAT = max(args.repeat, 1)
    tmp = Path(tempfile.mkdtemp(prefix="sopaudit-bench-"))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; files in {tmp}")
    try:
        for times in args.times:
            csv_path = tmp / f"export_{times}.csv"
            t = time.perf_counter()
            generate_csv(csv_path, args.rows, times=times)
            print(f"\n[{times}] generated {csv_path.name}: {args.rows:,} rows x {len(COLUMNS)} columns, "
                  f"{csv_path.stat().st_size / 2**20:,.0f} MiB in {time.perf_counter() - t:.1f} s")
            ours = measure("sopaudit-csv", csv_path, times)
            print(show(ours))
            rate = ours["rows"] / ours["seconds"]
            verdict = (f"[{times}] target >= 1.00 M rows/s: {'met' if rate >= 1e6 else 'NOT met'}; "
                       f"target peak < 3x DataFrame: {'met' if ours['peak_bytes'] < 3 * ours['df_bytes'] else 'NOT met'}")
            if not args.skip_baseline:
                raw = measure("pyarrow", csv_path, times)
                print(show(raw))
                ratio = ours["seconds"] / raw["seconds"]
                print(f"[{times}] sopaudit takes {ratio:.2f}x the time of pyarrow.csv.read_csv (target <= 4x: "
                      f"{'met' if ratio <= 4 else 'NOT met'}); {ours['cpu'] / raw['cpu']:.2f}x its CPU time")
                base = measure("pandas-pm4py", csv_path, times)
                print(show(base))
                print(f"[{times}] sopaudit is {base['seconds'] / ours['seconds']:.2f}x the speed of pandas.read_csv + "
                      f"pm4py.format_dataframe, with {ours['peak_bytes'] / max(base['peak_bytes'], 1):.2f}x its peak memory")
            print(verdict)
            if not args.keep:
                csv_path.unlink()
        if args.skip_xes:
            return
        xes_files = [p for p in sorted(DATASETS.glob("*/*.xes*")) if p.parent.name.startswith("bpic")]
        generated = tmp / f"generated_{args.xes_events}.xes.gz"
        t = time.perf_counter()
        generate_xes(generated, args.xes_events)
        print(f"generated {generated.name} in {time.perf_counter() - t:.1f} s")
        for path in [*xes_files, generated]:
            ours = measure("sopaudit-xes", path)
            print(show(ours))
            if not args.skip_baseline:
                ref = measure("pm4py-xes", path)
                print(show(ref))
                print(f"XES {path.name}: sopaudit (safe streaming reader + canonical log + quality report) "
                      f"is {ref['seconds'] / ours['seconds']:.2f}x the speed of pm4py.read_xes")
    finally:
        if not args.keep:
            for p in tmp.iterdir():
                p.unlink()
            tmp.rmdir()


if __name__ == "__main__":
    main()
