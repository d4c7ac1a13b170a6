"""Benchmark: the conformance step on a 100,000-case log with thousands of variants, against
pm4py.conformance_diagnostics_alignments on the same log and net, in the same run.

    .venv/bin/python benchmarks/bench_conformance.py [--cases 100000] [--skip-pm4py]

The log is the passport SOP's main path and its legitimate variants (re-scans, reprints,
rejections), perturbed at random (skips, swaps, repeats, foreign activities) so that several
thousand distinct variants occur. Peak memory is the maximum resident set size of this process
and of its worker processes.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import sopaudit as sa
from sopaudit.auditing.run import map_activities
from sopaudit.sop import compile_sop

ROOT = Path(__file__).resolve().parents[1]
MAIN = ["pra_permohonan", "pembayaran", "kedatangan", "pemeriksaan_berkas", "cek_pencegahan",
        "verifikasi_penyelia", "foto_sidik_jari", "wawancara", "verifikasi_pembayaran", "adjudikasi",
        "persetujuan", "pencetakan", "uji_kualitas", "laminasi", "penyerahan"]
BASES = [
    MAIN,
    MAIN[:4] + ["pemeriksaan_berkas"] + MAIN[4:],
    MAIN[:13] + ["berita_acara_rusak", "pencetakan", "uji_kualitas"] + MAIN[13:],
    MAIN[:8] + ["penolakan"],
    MAIN[:10] + ["penolakan"],
]


def make_log(n_cases: int, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    traces = []
    for _ in range(n_cases):
        t = list(rng.choice(BASES))
        if rng.random() < 0.6:  # 40% conform
            for _ in range(rng.randint(1, 3)):
                op = rng.randrange(4)
                i = rng.randrange(len(t))
                if op == 0 and len(t) > 2:
                    del t[i]
                elif op == 1 and i < len(t) - 1:
                    t[i], t[i + 1] = t[i + 1], t[i]
                elif op == 2:
                    t.insert(i, t[i])
                else:
                    t.insert(i, rng.choice(["titip_berkas", "konsultasi", "cetak_ulang_tanda_terima"]))
        traces.append(t)
    lengths = np.array([len(t) for t in traces])
    case = np.repeat([f"C{i:07d}" for i in range(n_cases)], lengths)
    pos = np.concatenate([np.arange(n) for n in lengths])
    t0 = pd.Timestamp("2024-01-02 08:00", tz="Asia/Jakarta")
    return pd.DataFrame({
        "case:concept:name": case,
        "concept:name": [a for t in traces for a in t],
        "time:timestamp": t0 + pd.to_timedelta(np.repeat(np.arange(n_cases), lengths) * 60 + pos * 5, unit="m"),
    })


def peak_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--skip-pm4py", action="store_true")
    args = ap.parse_args()
    sop = sa.load_sop(ROOT / "reference_models" / "paspor_baru_mpaspor.yaml")
    log = make_log(args.cases)
    n_var = log.groupby("case:concept:name")["concept:name"].agg(lambda s: "|".join(s)).nunique()
    print(f"log: {args.cases:,} cases, {len(log):,} events, {n_var:,} variants")

    t = time.perf_counter()
    r1 = sa.audit(log, sop, processes=1)
    one = time.perf_counter() - t
    print(f"sopaudit.audit, 1 process:  {one:8.1f} s  fitness {r1.metrics['fitness']:.9f}")
    t = time.perf_counter()
    r2 = sa.audit(log, sop, processes=2)
    two = time.perf_counter() - t
    print(f"sopaudit.audit, 2 processes: {two:8.1f} s  (same findings: {r1.deviations.equals(r2.deviations)})")
    print(f"peak memory (max RSS of this process or a worker): {peak_mib():,.0f} MiB")
    if args.skip_pm4py:
        return
    import pm4py

    net = compile_sop(sop)
    events = map_activities(log, sop)[["case:concept:name", "concept:name", "time:timestamp"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        aligned = pm4py.conformance_diagnostics_alignments(events, *net.to_pm4py())
        pm = time.perf_counter() - t
        fit = pm4py.fitness_alignments(events, *net.to_pm4py())["log_fitness"] if args.cases <= 20000 else None
    print(f"pm4py.conformance_diagnostics_alignments: {pm:8.1f} s ({len(aligned):,} alignments)")
    if fit is not None:
        print(f"pm4py log fitness {fit:.9f}")
    print(f"ratio pm4py / sopaudit (whole audit incl. classification and tables): "
          f"{pm / one:.2f}x with 1 process, {pm / two:.2f}x with 2 processes")


if __name__ == "__main__":
    main()
