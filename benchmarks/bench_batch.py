"""Benchmark `sopaudit batch`: N simulated office logs audited as one batch, on the local process
pool and on a 2-worker local Dask cluster, against pm4py's alignment-based fitness of the same logs
(one after another, no report) in the same run.

    .venv/bin/python benchmarks/bench_batch.py [--offices 4] [--events 80000] [--workers 2]
        [--formats csv,json] [--partitions 1] [--skip-pm4py] [--full]

`--full` is the issue's size: 20 offices, 10 million events in total (long: tens of minutes
and several GB of memory per worker). Reported: wall time, events per second, and the peak
resident memory of each worker process (ru_maxrss, so a pool worker's peak over all the
audits it ran).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import sopaudit as sa
from sopaudit.batch.plan import load_plan
from sopaudit.batch.run import execute

ROOT = Path(__file__).resolve().parents[1]
SOP = ROOT / "reference_models" / "paspor_baru_mpaspor.yaml"


def make_logs(folder: Path, offices: int, events: int) -> list[Path]:
    sop = sa.load_sop(SOP)
    probe, _ = sa.simulate(sop, cases=200, seed=1)
    per_case = len(probe) / 200
    cases = max(10, round(events / offices / per_case))
    paths = []
    for i in range(offices):
        log, _ = sa.simulate(sop, cases=cases, seed=100 + i)
        path = folder / f"office_{i:02d}.csv"
        log.to_csv(path, index=False)
        paths.append(path)
    return paths


def write_plan(folder: Path, logs: list[Path], formats: str, partitions: int) -> Path:
    lines = [f"defaults:\n  sop: {SOP}\n  lang: en\n  formats: {formats}\n  partitions: {partitions}\naudits:"]
    lines += [f"  - name: {p.stem}\n    log: {p}" for p in logs]
    plan = folder / "plan.yaml"
    plan.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return plan


def report(label: str, seconds: float, records: list[dict]) -> None:
    failed = [r["name"] for r in records if r["status"] != "ok"]
    events = sum((r.get("metrics") or {}).get("events") or 0 for r in records)
    workers: dict = {}
    for r in records:
        for w in [r.get("worker"), (r.get("split") or {}).get("worker")] + [p.get("worker") for p in r.get("partitions", [])]:
            if w:
                workers[(w["host"], w["pid"])] = max(workers.get((w["host"], w["pid"]), 0), w["peak_rss_mb"])
    peaks = ", ".join(f"{v:,.0f}" for v in sorted(workers.values(), reverse=True))
    print(f"{label:<34} {seconds:8.1f} s  {events / seconds:10,.0f} events/s  {len(records)} audits"
          f"{'  FAILED: ' + ', '.join(failed) if failed else ''}")
    print(f"{'':<34} peak memory per worker (MiB): {peaks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offices", type=int, default=4)
    parser.add_argument("--events", type=int, default=80_000, help="events in total over all offices")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--formats", default="csv,json", help="report formats of each audit (html,xlsx,csv,json)")
    parser.add_argument("--partitions", type=int, default=1, help="split each log into this many case partitions")
    parser.add_argument("--skip-pm4py", action="store_true")
    parser.add_argument("--full", action="store_true", help="20 offices, 10 million events")
    args = parser.parse_args()
    if args.full:
        args.offices, args.events = 20, 10_000_000

    with tempfile.TemporaryDirectory(prefix="sopaudit-bench-batch-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        logs = make_logs(tmp, args.offices, args.events)
        total = sum(len(pd.read_csv(p, usecols=[0])) for p in logs)
        print(f"{args.offices} simulated office logs, {total:,} events in total "
              f"({time.perf_counter() - t0:.1f} s to simulate); formats {args.formats}, "
              f"partitions {args.partitions}, {args.workers} workers")
        plan = load_plan(write_plan(tmp, logs, args.formats, args.partitions))

        t0 = time.perf_counter()
        records = execute(plan.jobs, tmp / "out_pool", workers=args.workers)
        pool_s = time.perf_counter() - t0
        n_tasks = sum(max(job.partitions, 1) for job in plan.jobs)
        if args.workers > 1 and n_tasks > 1:
            report(f"local pool ({args.workers} processes)", pool_s, records)
            print(f"{'':<34} (including starting the worker processes)")
        else:  # one task or one worker: sopaudit runs it in the calling process
            report("this process (no pool)", pool_s, records)

        from distributed import LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster:
            started = time.perf_counter() - t0
            t1 = time.perf_counter()
            records = execute(plan.jobs, tmp / "out_dask", scheduler=cluster.scheduler_address)
            dask_s = time.perf_counter() - t1
        report(f"Dask LocalCluster ({args.workers} workers)", dask_s, records)
        print(f"{'':<34} (cluster start {started:.1f} s, not counted)")
        same = all((tmp / "out_pool" / p.relative_to(tmp / "out_dask")).read_bytes() == p.read_bytes()
                   for p in (tmp / "out_dask").glob("*/*.csv"))
        print(f"{'':<34} CSV files identical on both executors: {same}")

        if not args.skip_pm4py:
            from pm4py.algo.evaluation.replay_fitness import algorithm as replay_fitness

            from sopaudit.conform.labels import map_activities
            from sopaudit.core.columns import ACTIVITY, CASE, TIME
            from sopaudit.sop.compile import compile_sop

            sop = sa.load_sop(SOP)
            net = compile_sop(sop)
            t0 = time.perf_counter()
            for p in logs:
                events = map_activities(sa.read_log(p), sop)[[CASE, ACTIVITY, TIME]]
                events[CASE] = events[CASE].astype(str)
                events[ACTIVITY] = events[ACTIVITY].astype(str)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    replay_fitness.apply(events, *net.to_pm4py(),
                                         variant=replay_fitness.Variants.ALIGNMENT_BASED,
                                         parameters={"show_progress_bar": False})
            pm_s = time.perf_counter() - t0
            print(f"{'pm4py alignment fitness, 1 process':<34} {pm_s:8.1f} s  {total / pm_s:10,.0f} events/s "
                  "(fitness only: no findings, no report)")
            print(f"{'':<34} ratio pm4py / sopaudit batch: pool {pm_s / pool_s:.2f}x, Dask {pm_s / dask_s:.2f}x")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
