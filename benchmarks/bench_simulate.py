"""Benchmark the simulator: 1 million passport applications, time, events per second and peak memory.

The simulation runs in a fresh child process, so its peak memory (ru_maxrss) is its own. The
baseline in the same run is pm4py's play-out of the same SOP's Petri net (random firing of
enabled transitions, no officers, times or deviations), on fewer traces; the ratio compares
events per second. Targets (issue 3): 1 million cases in under 60 s, under 4 GiB. With --write,
writing the log as Parquet, CSV and XES is timed too; with --cli, the whole command
`sopaudit simulate --cases N -o log.csv` (start-up, simulation, CSV) is timed in a child process
(target, issue 22: 1 million cases to CSV in under 40 s). Not part of the test suite:

    .venv/bin/python benchmarks/bench_simulate.py [--cases 1000000] [--baseline-traces 20000] [--write] [--cli]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOP = ROOT / "reference_models" / "paspor_baru_mpaspor.yaml"
LIMIT_SECONDS = 60
LIMIT_CLI_SECONDS = 40
LIMIT_BYTES = 4 * 2**30


def child(cases: int, seed: int, write: bool) -> None:
    """Simulate in this process and print the measurements as JSON."""
    import sopaudit as sa
    from sopaudit.simulation import simulate, write_log

    sop = sa.load_sop(SOP)
    t0 = time.perf_counter()
    log, truth = simulate(sop, cases, seed)
    seconds = time.perf_counter() - t0
    out = {"cases": cases, "events": len(log), "truth_rows": len(truth), "seconds": seconds,
           "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    if write:
        for name in ("log.parquet", "log.csv", "log.xes"):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                write_log(log, Path(tmp) / name)
                out[f"{name}_seconds"] = time.perf_counter() - t0
                out[f"{name}_bytes"] = (Path(tmp) / name).stat().st_size
        out["maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(out))


def cli(cases: int, seed: int) -> None:
    """Time the command end to end, as a user runs it."""
    exe = Path(sys.executable).with_name("sopaudit")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "log.csv"
        t0 = time.perf_counter()
        subprocess.run([str(exe), "simulate", "--sop", str(SOP), "--cases", str(cases), "--seed", str(seed),
                        "-o", str(out)], check=True, capture_output=True)
        seconds = time.perf_counter() - t0
        size = out.stat().st_size
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"sopaudit simulate --cases {cases:,} -o log.csv   {seconds:.1f} s, {size / 1e6:,.0f} MB, peak "
          f"{rss / 2**30:.2f} GiB   target < {LIMIT_CLI_SECONDS} s: {'ok' if seconds < LIMIT_CLI_SECONDS else 'MISSED'}")


def pm4py_baseline(traces: int) -> tuple[float, int]:
    """pm4py's basic play-out of the compiled SOP net: (seconds, events)."""
    import pm4py
    from pm4py.algo.simulation.playout.petri_net.variants import basic_playout

    import sopaudit as sa
    from sopaudit.sop import compile_sop

    net, im, fm = compile_sop(sa.load_sop(SOP)).to_pm4py()
    t0 = time.perf_counter()
    log = basic_playout.apply(net, im, fm, parameters={basic_playout.Parameters.NO_TRACES: traces,
                                                       basic_playout.Parameters.MAX_TRACE_LENGTH: 200})
    seconds = time.perf_counter() - t0
    del pm4py
    return seconds, sum(len(t) for t in log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline-traces", type=int, default=20_000)
    parser.add_argument("--write", action="store_true", help="also time writing the log as Parquet, CSV and XES")
    parser.add_argument("--cli", action="store_true", help="also time `sopaudit simulate ... -o log.csv`")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.cases, args.seed, args.write)
        return

    cmd = [sys.executable, __file__, "--child", "--cases", str(args.cases), "--seed", str(args.seed)]
    if args.write:
        cmd.append("--write")
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    m = json.loads(run.stdout.strip().splitlines()[-1])
    rate = m["events"] / m["seconds"]
    print(f"sopaudit.simulation  {m['cases']:,} cases, {m['events']:,} events, {m['truth_rows']:,} truth rows")
    print(f"  time             {m['seconds']:.1f} s  ({rate:,.0f} events/s)   target < {LIMIT_SECONDS} s: "
          f"{'ok' if m['seconds'] < LIMIT_SECONDS else 'MISSED'}")
    print(f"  peak memory      {m['maxrss_bytes'] / 2**30:.2f} GiB   target < 4 GiB: "
          f"{'ok' if m['maxrss_bytes'] < LIMIT_BYTES else 'MISSED'}")
    for name in ("log.parquet", "log.csv", "log.xes"):
        if f"{name}_seconds" in m:
            print(f"  write {name:<12}{m[f'{name}_seconds']:.1f} s, {m[f'{name}_bytes'] / 1e6:,.0f} MB "
                  f"({m[f'{name}_bytes'] / 1e6 / m[f'{name}_seconds']:,.0f} MB/s)")
    if args.cli:
        cli(args.cases, args.seed)

    seconds, events = pm4py_baseline(args.baseline_traces)
    base_rate = events / seconds
    print(f"pm4py basic play-out of the same net  {args.baseline_traces:,} traces, {events:,} events, "
          f"{seconds:.1f} s  ({base_rate:,.0f} events/s)")
    print(f"ratio              sopaudit is {rate / base_rate:,.0f} times faster per event "
          "(and adds officers, times on the calendar, deviations and their truth)")


if __name__ == "__main__":
    main()
