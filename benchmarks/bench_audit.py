"""Benchmark: the whole `sopaudit audit` command (read, audit, every report) against pm4py's
read_xes plus fitness_alignments on the same log and net, in the same run.

    .venv/bin/python benchmarks/bench_audit.py sepsis [--skip-pm4py]
    .venv/bin/python benchmarks/bench_audit.py xes [--cases 150000] [--skip-pm4py] [--runs 5]
    .venv/bin/python benchmarks/bench_audit.py big [--events 2000000]

- sepsis: the public Sepsis log (../shared/datasets) against its normative PNML model.
- xes: a simulated traffic-fine log written as XES.gz (`sopaudit simulate` with
  benchmarks/models/tilang_scenario.yaml: 11 activities; at 150,370 cases about 566,000 events
  and 235 variants, like the real public-administration log of issue 15: 150,370 cases, 561,470
  events, 11 activities, 231 variants), audited from the XES file by both tools.
- big: a simulated passport log of about --events events (15 a case) as Parquet, audited with
  CSV/JSON/HTML and then with every report (pm4py is not run: it would take hours).

Every run is a separate process, measured by the kernel (os.wait4): wall time, CPU time (user +
system: on a shared machine the wall time also holds the waits for a core) and peak resident
memory. The sopaudit stage times come from its progress lines (`sopaudit -v`).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
BIN = Path(sys.executable).parent
STAGE = re.compile(r"^(reading .*|auditing .*|report files|process map): ([0-9.]+) s \(CPU ([0-9.]+) s\)$", re.M)

PM4PY = """
import sys, time, warnings
warnings.simplefilter("ignore")
import pm4py
log_path, net_kind, net_arg = sys.argv[1:4]
t = time.perf_counter()
log = pm4py.read_xes(log_path)
read = time.perf_counter() - t
if net_kind == "pnml":
    net, im, fm = pm4py.read_pnml(net_arg)
else:
    import sopaudit as sa
    from sopaudit.sop import compile_sop
    c = compile_sop(sa.load_sop(net_arg))
    net, im, fm = c.to_pm4py()
t = time.perf_counter()
fit = pm4py.fitness_alignments(log, net, im, fm)
align = time.perf_counter() - t
variants = log.groupby("case:concept:name", sort=False)["concept:name"].agg(tuple).nunique()
print(f"RESULT read {read:.2f} align {align:.2f} fitness {fit['log_fitness']:.9f} events {len(log)} "
      f"cases {log['case:concept:name'].nunique()} variants {variants}")
"""


def run(cmd: list[str], env: dict | None = None) -> dict:
    """Run a command; its wall and CPU seconds, peak memory (MiB) and output."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{stdout}\n{stderr}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024,
            "stdout": stdout, "stderr": stderr}


def show(name: str, r: dict) -> None:
    print(f"{name:<44} wall {r['wall']:7.1f} s   cpu {r['cpu']:7.1f} s   peak {r['peak_mib']:7,.0f} MiB")
    for stage, secs, cpu in STAGE.findall(r["stderr"]):
        print(f"    {stage:<56} wall {float(secs):6.1f} s   cpu {float(cpu):6.1f} s")


def settle(below: float = 0.5, longest: float = 120.0) -> None:
    """Wait (at most `longest` seconds) for the one-minute load average to fall below `below`:
    sopaudit writes its reports two at a time only when a core is idle (core/cores.py), so a run
    right after another benchmark's (pm4py's, say) would measure the busy machine instead."""
    deadline = time.monotonic() + longest
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(2)
    print(f"    (load average {os.getloadavg()[0]:.2f} at the start of the run)")


def audit(log: Path, sop: Path, out: Path, formats: str | None = None) -> dict:
    settle()
    cmd = [str(BIN / "sopaudit"), "-v", "audit", "--log", str(log), "--sop", str(sop), "--out", str(out),
           "--lang", "en"]
    return run(cmd + (["--formats", formats] if formats else []), env={"SOPAUDIT_PROGRESS": "0"})


def pm4py_run(log: Path, kind: str, net: Path) -> dict:
    r = run([sys.executable, "-c", PM4PY, str(log), kind, str(net)])
    m = re.search(r"RESULT read ([0-9.]+) align ([0-9.]+) fitness ([0-9.]+) events (\d+) cases (\d+) variants (\d+)", r["stdout"])
    r.update(read=float(m.group(1)), align=float(m.group(2)), fitness=float(m.group(3)),
             events=int(m.group(4)), cases=int(m.group(5)), variants=int(m.group(6)))
    return r


def compare(ours: dict, theirs: dict) -> None:
    show("pm4py read_xes + fitness_alignments", theirs)
    print(f"    pm4py read_xes {theirs['read']:.1f} s, fitness_alignments {theirs['align']:.1f} s, "
          f"log fitness {theirs['fitness']:.9f}")
    print(f"    log: {theirs['cases']:,} cases, {theirs['events']:,} events, {theirs['variants']:,} variants")
    print(f"ratio sopaudit / pm4py: wall {ours['wall'] / theirs['wall']:.3f}, cpu {ours['cpu'] / theirs['cpu']:.3f}")


def alternate(runs: int, ours, theirs) -> None:
    """sopaudit's run and pm4py's (`theirs`, None: skipped) alternately, `runs` times: each pair,
    then the median ratios (this shared machine's speed drifts between runs)."""
    ratios = []
    for i in range(runs):
        if runs > 1:
            print(f"run {i + 1} of {runs}")
        r = ours()
        show("sopaudit audit, every report (CLI)", r)
        print("    " + "\n    ".join(line for line in r["stdout"].splitlines()[:4]))
        if theirs is not None:
            t = theirs()
            compare(r, t)
            ratios.append((r["wall"] / t["wall"], r["cpu"] / t["cpu"]))
    if len(ratios) > 1:
        wall, cpu = (statistics.median(x) for x in zip(*ratios, strict=True))
        print(f"median ratio over {len(ratios)} runs: wall {wall:.3f} "
              f"({min(w for w, _ in ratios):.3f} to {max(w for w, _ in ratios):.3f}), cpu {cpu:.3f}")


def compile_bytecode() -> None:
    """Compile sopaudit's modules as pip does when it installs a package (pm4py's are): an editable
    install run with PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module from source
    in every run (0.2 to 0.3 s here)."""
    code = "import compileall, pathlib, sopaudit; compileall.compile_dir(pathlib.Path(sopaudit.__file__).parent, quiet=1)"
    subprocess.run([sys.executable, "-c", code], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("which", choices=["sepsis", "xes", "big"])
    ap.add_argument("--cases", type=int, default=150_370, help="cases of the simulated XES log (xes)")
    ap.add_argument("--events", type=int, default=2_000_000, help="about this many events (big)")
    ap.add_argument("--log", type=Path, default=None, help="reuse this simulated log instead of simulating")
    ap.add_argument("--skip-pm4py", action="store_true")
    ap.add_argument("--runs", type=int, default=1,
                    help="sopaudit and pm4py run this many times, alternately; the medians are shown (sepsis, xes)")
    args = ap.parse_args()
    compile_bytecode()
    work = Path(tempfile.mkdtemp(prefix="bench_audit_"))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; files in {work}")

    if args.which == "sepsis":
        log, net = DATASETS / "sepsis" / "sepsis.xes.gz", DATASETS / "sepsis" / "sepsis_normative.pnml"
        if not log.exists():
            raise SystemExit(f"{log} is absent")
        alternate(args.runs, lambda: audit(log, net, work / "report"),
                  None if args.skip_pm4py else lambda: pm4py_run(log, "pnml", net))
        return

    if args.which == "xes":
        sop = ROOT / "benchmarks" / "models" / "tilang_sop.yaml"
        log = args.log or work / f"sim{args.cases}.xes.gz"
        if args.log is None:
            r = run([str(BIN / "sopaudit"), "simulate", "--scenario", str(sop.with_name("tilang_scenario.yaml")),
                     "--cases", str(args.cases), "--seed", "5", "-o", str(log)])
            print(f"simulated {log.name} in {r['wall']:.0f} s ({log.stat().st_size / 2**20:.0f} MiB)")
        alternate(args.runs, lambda: audit(log, sop, work / "report"),
                  None if args.skip_pm4py else lambda: pm4py_run(log, "sop", sop))
        return

    sop = ROOT / "reference_models" / "paspor_baru_mpaspor.yaml"
    cases = max(1, args.events // 15)
    log = args.log or work / f"sim{cases}.parquet"
    if args.log is None:
        r = run([str(BIN / "sopaudit"), "simulate", "--sop", str(sop), "--cases", str(cases), "--seed", "5",
                 "-o", str(log)])
        print(f"simulated {log.name} in {r['wall']:.0f} s")
    lean = audit(log, sop, work / "lean", formats="csv,json,html")
    show("sopaudit audit, CSV/JSON/HTML (CLI)", lean)
    print("    " + "\n    ".join(line for line in lean["stdout"].splitlines()[:4]))
    full = audit(log, sop, work / "full")
    show("sopaudit audit, every report incl. XLSX (CLI)", full)


if __name__ == "__main__":
    main()
