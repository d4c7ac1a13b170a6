"""Benchmark the time checks (step times and the service standard) on a million passport cases.

Builds a synthetic mapped event log of the passport SOP (reference_models/paspor_baru_mpaspor.yaml,
15 main-line events per case, start and end times on the counter steps, working-day gaps drawn
with numpy over the Indonesian calendar, some late steps and cases) and times:

- sopaudit: `check_step_times` + `check_service_standard` (findings, statistics, case table);
- baseline: the plain way with `numpy.busday_count`: local dates, working-day waits before the
  steps with a wait standard, elapsed minutes for the duration standards, first interview to
  last lamination per case, compared with the limits; no findings table, no office hours.

Both must agree on every late wait, late duration and late case. Not part of the test suite:

    .venv/bin/python benchmarks/bench_timing.py [--cases 1000000] [--repeat 1] [--roles]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sopaudit import load_sop
from sopaudit.calendar import WorkingCalendar
from sopaudit.standards.timing import check_service_standard, check_step_times

ROOT = Path(__file__).resolve().parents[1]
SOP_PATH = ROOT / "reference_models" / "paspor_baru_mpaspor.yaml"
TZ = "Asia/Pontianak"  # WIB, the first office

MAIN = ["pra_permohonan", "pembayaran", "kedatangan", "pemeriksaan_berkas", "cek_pencegahan",
        "verifikasi_penyelia", "foto_sidik_jari", "wawancara", "verifikasi_pembayaran", "adjudikasi",
        "persetujuan", "pencetakan", "uji_kualitas", "laminasi", "penyerahan"]
# Minutes after opening at which each step ends on its day (the counter steps get their own
# durations below); spaced so that steps on the same day keep their order under jitter.
SLOT = {"kedatangan": 20, "verifikasi_pembayaran": 240, "adjudikasi": 300, "persetujuan": 330,
        "pencetakan": 360, "uji_kualitas": 375, "laminasi": 400, "penyerahan": 430}
COUNTER = ["pemeriksaan_berkas", "cek_pencegahan", "verifikasi_penyelia", "foto_sidik_jari", "wawancara"]
TYPICAL_MIN = {"pemeriksaan_berkas": 11, "cek_pencegahan": 3, "verifikasi_penyelia": 7,
               "foto_sidik_jari": 4, "wawancara": 11}
POOLS = {"pemohon": ["pemohon"], "petugas_loket": [f"loket{i}" for i in range(6)],
         "penyelia": ["penyelia0", "penyelia1"], "petugas_wawancara": [f"wawancara{i}" for i in range(3)],
         "bendahara": ["bendahara0"], "adjudikator": ["adjudikator0", "adjudikator1"],
         "kasi_dokumen": ["kasi0"], "petugas_cetak": ["cetak0", "cetak1"],
         "petugas_penyerahan": ["serah0", "serah1"]}


def synthetic_log(n_cases: int, cal: WorkingCalendar, sop, seed: int = 11) -> pd.DataFrame:
    """The audit's mapped log for n_cases passport applications (15 events each), built with numpy."""
    rng = np.random.default_rng(seed)
    k = len(MAIN)
    busday = dict(weekmask=cal.weekmask, holidays=cal.holiday_array(2020, 2029))
    first = np.busday_offset("2023-01-02", 0, roll="forward", **busday)
    interview = np.busday_offset(first, rng.integers(0, 700, n_cases), **busday)
    fast = rng.random(n_cases) < 0.1  # percepatan, same-day service
    # Working days from the interview to adjudication, approval, printing, handover.
    adj = np.where(fast, 0, rng.choice([1, 1, 1, 1, 1, 1, 0, 2], n_cases))
    appr = np.where(fast, 0, rng.choice([0, 0, 1, 1, 2], n_cases))
    prn = np.where(fast, rng.choice([0] * 19 + [1], n_cases), rng.choice([0, 1, 1, 2, 3], n_cases))
    hand = rng.integers(0, 6, n_cases)
    day = {}
    day["pra_permohonan"] = interview - np.timedelta64(4, "D")
    day["pembayaran"] = interview - np.timedelta64(3, "D")
    for s in ("kedatangan", *COUNTER):
        day[s] = interview
    day["verifikasi_pembayaran"] = interview
    day["adjudikasi"] = np.busday_offset(interview, adj, **busday)
    day["persetujuan"] = np.busday_offset(day["adjudikasi"], appr, **busday)
    for s in ("pencetakan", "uji_kualitas", "laminasi"):
        day[s] = np.busday_offset(day["persetujuan"], prn, **busday)
    day["penyerahan"] = np.busday_offset(day["laminasi"], hand, **busday)

    minute = np.timedelta64(1, "m")
    opening = np.timedelta64(8 * 60, "m")
    end = np.empty((n_cases, k), "datetime64[m]")
    start = np.full((n_cases, k), np.datetime64("NaT"), "datetime64[m]")
    for j, s in enumerate(MAIN):
        if s in ("pra_permohonan", "pembayaran"):
            end[:, j] = day[s] + np.timedelta64(19 * 60, "m") + rng.integers(0, 180, n_cases) * minute
        elif s in SLOT:
            end[:, j] = day[s] + opening + (SLOT[s] + rng.integers(0, 12, n_cases)) * minute
    # Counter steps one after another from about 08:40: durations near the typical time, 3% long.
    t = interview + opening + (40 + rng.integers(0, 60, n_cases)) * minute
    for s in COUNTER:
        j = MAIN.index(s)
        t = t + rng.integers(1, 6, n_cases) * minute
        dur = np.maximum(1, rng.normal(TYPICAL_MIN[s], 2, n_cases).round()).astype(np.int64)
        dur = np.where(rng.random(n_cases) < 0.03, dur * 3, dur)
        start[:, j] = t
        end[:, j] = t + dur * minute
        t = end[:, j]

    case_ids = pd.array([f"2024PAS{i:07d}" for i in range(n_cases)], dtype="string")
    step_role = {s.id: s.roles[0] for s in sop.steps}
    resource = np.empty((n_cases, k), object)
    for j, s in enumerate(MAIN):
        pool = np.array(POOLS[step_role[s]], object)
        resource[:, j] = pool[rng.integers(0, len(pool), n_cases)]
    # 1% of cases approved by the adjudicator (four-eyes violations).
    clash = rng.random(n_cases) < 0.01
    resource[clash, MAIN.index("persetujuan")] = resource[clash, MAIN.index("adjudikasi")]

    def stamps(values: np.ndarray) -> pd.Series:
        return pd.Series(values.ravel().astype("datetime64[ns]")).dt.tz_localize(TZ)

    n = n_cases * k
    events = pd.DataFrame({
        "case:concept:name": case_ids.take(np.repeat(np.arange(n_cases), k)),
        "concept:name": pd.array(MAIN, dtype="string").take(np.tile(np.arange(k), n_cases)),
        "time:timestamp": stamps(end),
        "start_timestamp": stamps(start),
        "org:resource": pd.array(resource.ravel(), dtype="string"),
        "jenis_layanan": pd.array(np.where(fast, "percepatan", "reguler"), dtype="string").take(
            np.repeat(np.arange(n_cases), k)),
        "sopaudit:row": np.arange(1, n + 1),
        "sopaudit:pos": np.tile(np.arange(k), n_cases),
    })
    return events


def baseline(events: pd.DataFrame, sop, cal: WorkingCalendar) -> dict[str, int]:
    """The plain numpy.busday_count version of the same checks: late counts per check.

    Written as lean as plain numpy allows: it relies on the log being sorted with positions
    (sopaudit:pos) and on every case having the steps, and does no more than count.
    """
    busday = dict(weekmask=cal.weekmask, holidays=cal.holiday_array(2020, 2029))
    one = np.timedelta64(1, "D")
    local = events["time:timestamp"].dt.tz_convert(cal.tz).dt.tz_localize(None).to_numpy()
    start = events["start_timestamp"].dt.tz_convert(cal.tz).dt.tz_localize(None).to_numpy()
    days = local.astype("datetime64[D]")
    first = events["sopaudit:pos"].to_numpy() == 0
    case = np.cumsum(first) - 1
    acts = events["concept:name"]
    began = np.where(np.isnat(start), local, start).astype("datetime64[D]")
    prev = np.r_[days[:1], days[:-1]]
    out = {"late_wait": 0, "late_duration": 0}
    for s in sop.steps:
        if s.time.wait is None and s.time.duration is None:
            continue
        mask = (acts == s.id).to_numpy(bool)
        if s.time.wait is not None:
            m = mask & ~first
            waits = np.busday_count(prev[m] + one, began[m] + one, **busday)
            out["late_wait"] += int((waits > s.time.wait.value).sum())
        if s.time.duration is not None:
            m = mask & ~np.isnat(start)
            minutes = (local[m] - start[m]) / np.timedelta64(1, "m")
            out["late_duration"] += int((minutes > s.time.duration.value).sum())
    std = sop.service_standards[0]
    n_cases = int(case[-1]) + 1
    d_from = np.full(n_cases, np.datetime64("NaT"), "datetime64[D]")
    d_to = d_from.copy()
    m = (acts == std.from_step).to_numpy(bool)
    d_from[case[m][::-1]] = days[m][::-1]  # first occurrence wins
    m = (acts == std.to_step).to_numpy(bool)
    d_to[case[m]] = days[m]  # last occurrence wins
    both = ~np.isnat(d_from) & ~np.isnat(d_to)
    service = np.busday_count(d_from[both] + one, d_to[both] + one, **busday)
    kind = events[std.attribute].to_numpy(dtype=object)[first][both]
    limit = np.full(kind.size, std.limit.value)
    for value, d in std.per_value:
        limit[kind == value] = d.value
    out["late_case"] = int((service > limit).sum())
    return out


def timed(fn, *args):
    t0 = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t0, result


def best_of(repeat: int, fn, *args):
    runs = [timed(fn, *args) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[-1][1]


def ours(events, sop, cal):
    step_findings, stats = check_step_times(events, sop, cal)
    case_findings, table = check_service_standard(events, sop, cal)
    return step_findings, stats, case_findings, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--roles", action="store_true", help="also time the role and four-eyes checks")
    args = parser.parse_args()

    sop = load_sop(SOP_PATH)
    cal = WorkingCalendar(tz=TZ)
    t_build, events = timed(synthetic_log, args.cases, cal, sop)
    cal.working_days_between(events["time:timestamp"].iloc[:1], events["time:timestamp"].iloc[:1])
    print(f"cases: {args.cases:,}  events: {len(events):,}  (log built in {t_build:.1f} s; "
          f"best of {args.repeat})")

    t_base, base = best_of(args.repeat, baseline, events, sop, cal)
    t_ours, (step_findings, stats, case_findings, table) = best_of(args.repeat, ours, events, sop, cal)
    got = {
        "late_wait": int((step_findings["detail_code"] == "late_wait").sum()),
        "late_duration": int((step_findings["detail_code"] == "late_duration").sum()),
        "late_case": len(case_findings),
    }
    assert got == base, f"sopaudit {got} differs from the baseline {base}"
    within = table["within_service_standard"]
    print(f"late waits {got['late_wait']:,}, late durations {got['late_duration']:,}, late cases "
          f"{got['late_case']:,}; within the service standard {within.mean():.1%} of "
          f"{int(within.notna().sum()):,} measurable cases (same counts as the baseline)")
    print(f"numpy.busday_count baseline           : {t_base:6.2f} s")
    print(f"check_step_times + check_service_std. : {t_ours:6.2f} s  ratio {t_ours / t_base:.2f}x baseline")
    if args.roles:
        from sopaudit.standards.roles import check_roles, check_separation_of_duties

        assignments = pd.DataFrame(
            [(o, r) for r, officers in POOLS.items() if r != "pemohon" for o in officers],
            columns=["officer", "role"])
        t_roles, roles = timed(check_roles, events, sop, assignments)
        t_sod, sod = timed(check_separation_of_duties, events, sop)
        print(f"check_roles                           : {t_roles:6.2f} s  ({len(roles):,} findings)")
        print(f"check_separation_of_duties            : {t_sod:6.2f} s  ({len(sod):,} findings)")


if __name__ == "__main__":
    main()
