"""Benchmark: exact alignments on concurrent and real models, against pm4py in the same run.

    .venv/bin/python benchmarks/bench_alignments.py [--cases 200] [--only and20,and12,sepsis,sops]

- and20 / and12: a model start -> AND(k activities) -> end and `--cases` cases, each a random
  order of the k activities, a third of them with a deviation (a skipped, repeated or foreign
  step). AND(20) has about a million reachable markings; sopaudit explores them on the fly.
  Timed: sopaudit.audit (whole audit, 1 process), the aligner alone, and
  pm4py.conformance_diagnostics_alignments on the same log and net.
- sepsis: the variants of the public Sepsis log (every 4th of 846 by default, `--sepsis-every 1`
  for all) against its normative PNML (skipped when ../shared/datasets is absent), sopaudit's
  aligner in each gear against pm4py.
- sops: the shipped SOPs, 300 random runs of each (perturbed), each gear against pm4py.

Times are CPU seconds of this process (the machine is shared), with wall seconds and the load
average beside them for sepsis and sops; costs are checked to be equal, variant by variant.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import sopaudit as sa
from sopaudit.conform.align import Aligner, align_variants
from sopaudit.sop import compile_sop
from sopaudit.sop.compile import CompiledNet
from sopaudit.sop.marking import MarkingGraph

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


def clock() -> float:
    return time.process_time()


def parallel_sop(k: int, folder: Path):
    acts = [f"a{j:02d}" for j in range(k)]
    steps = "\n".join(f"  - {{id: {a}, name: Step {a}, role: clerk}}" for a in ["start", *acts, "end"])
    path = folder / f"and{k}.yaml"
    path.write_text(f"sop: {{code: AND{k}, title: {k} checks in any order, version: '1'}}\n"
                    f"roles:\n  - {{id: clerk, name: Clerk}}\nsteps:\n{steps}\nflow:\n  - start\n"
                    f"  - parallel: [{', '.join(f'[{a}]' for a in acts)}]\n  - end\n", encoding="utf-8")
    return sa.load_sop(path), acts


def parallel_log(acts: list[str], n_cases: int, seed: int = 1) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    t0 = pd.Timestamp("2024-01-02 08:00", tz="Asia/Jakarta")
    for c in range(n_cases):
        t = acts[:]
        rng.shuffle(t)
        r = rng.random()
        if r < 0.12:
            del t[rng.randrange(len(t))]
        elif r < 0.24:
            t.insert(rng.randrange(len(t)), t[rng.randrange(len(t))])
        elif r < 0.33:
            t.insert(rng.randrange(len(t)), "titip_berkas")
        for j, a in enumerate(["start", *t, "end"]):
            rows.append((f"C{c:05d}", a, t0 + pd.Timedelta(days=c, minutes=5 * j)))
    return pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp"])


def pm4py_align(log: pd.DataFrame, net: CompiledNet, walls: list[float] | None = None) -> tuple[float, list[int]]:
    import pm4py
    from pm4py.util import constants

    constants.SHOW_PROGRESS_BAR = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t, w = clock(), time.perf_counter()
        res = pm4py.conformance_diagnostics_alignments(log, *net.to_pm4py(),
                                                       multi_processing=False)
        cpu = clock() - t
        if walls is not None:
            walls.append(time.perf_counter() - w)
        return cpu, [r["cost"] for r in res]


def variants_of(log: pd.DataFrame) -> list[tuple[str, ...]]:
    return sorted({tuple(g) for _, g in log.groupby("case:concept:name", sort=False)["concept:name"]})


def bench_parallel(k: int, n_cases: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sop, acts = parallel_sop(k, Path(tmp))
        log = parallel_log(acts, n_cases)
        net = compile_sop(sop)
        t = clock()
        result = sa.audit(log, sop, processes=1)
        whole = clock() - t
        t = clock()
        aligner = Aligner(net)
        ours = align_variants(variants_of(log), net)
        alone = clock() - t
        pm, costs = pm4py_align(log, net)
    cases = log.groupby("case:concept:name", sort=True)["concept:name"].agg(tuple)
    same = [ours[v].cost for v in cases] == costs
    print(f"AND({k}), {n_cases} cases ({len(ours)} variants), gear {aligner.gear}, "
          f"{len(aligner.graph):,} markings to choose it")
    print(f"  sopaudit.audit (1 process) {whole:6.2f} s   aligner alone {alone:6.2f} s   "
          f"pm4py {pm:6.2f} s   costs equal: {same}   fitness {result.metrics['fitness']:.6f}")
    print(f"  ratio sopaudit / pm4py: audit {whole / pm:.2f}x, aligner {alone / pm:.2f}x")


def bench_net(name: str, net: CompiledNet, variants: list[tuple[str, ...]]) -> None:
    rows = [(f"c{i:05d}", a, pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=j))
            for i, v in enumerate(variants) for j, a in enumerate(v)]
    log = pd.DataFrame(rows, columns=["case:concept:name", "concept:name", "time:timestamp"])
    times, walls, results = {}, {}, {}
    load = os.getloadavg()[0]
    for gear in ("graph", "fly"):
        t, w = clock(), time.perf_counter()
        results[gear] = align_variants(variants, net, gear=gear)
        times[gear], walls[gear] = clock() - t, time.perf_counter() - w
    pm_walls: list[float] = []
    pm, costs = pm4py_align(log, net, pm_walls)
    differ = [v for v, c in zip(variants, costs, strict=True) if results["graph"][v].cost != c]
    assert not differ, f"{name}: costs differ from pm4py's for {len(differ)} variants, e.g. {differ[0]}"
    auto = Aligner(net).gear
    print(f"{name}: {len(variants)} variants, auto gear {auto}, load average {load:.1f}; CPU s: graph "
          f"{times['graph']:.3f}, fly {times['fly']:.3f}, pm4py {pm:.2f}; wall s: {walls[auto]:.3f} against "
          f"{pm_walls[0]:.2f}; pm4py / auto: {pm / times[auto]:.0f}x CPU, {pm_walls[0] / walls[auto]:.0f}x wall; "
          f"costs equal per variant: True; same moves in both gears: {results['graph'] == results['fly']}")


def playouts(net: CompiledNet, n: int, seed: int) -> list[tuple[str, ...]]:
    rng = random.Random(seed)
    graph = MarkingGraph(net, max_markings=None)
    labels = sorted(graph.labels)
    out = set()
    for _ in range(n):
        m, t = graph.initial, []
        for _ in range(80):
            succ = graph.successors(m)
            if not succ or m == graph.final:
                break
            _, label, m = rng.choice(succ)
            if label is not None:
                t.append(label)
        for _ in range(rng.randrange(3)):
            i = rng.randrange(len(t) + 1)
            op = rng.randrange(3)
            if op == 0 and i < len(t):
                del t[i]
            elif op == 1 and i + 1 < len(t):
                t[i], t[i + 1] = t[i + 1], t[i]
            else:
                t.insert(i, rng.choice(labels))
        out.add(tuple(t))
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--only", default="and20,and12,sepsis,sops")
    ap.add_argument("--sepsis-every", type=int, default=4,
                    help="align every n-th Sepsis variant (pm4py needs ~2 minutes for all 846)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    if "and20" in only:
        bench_parallel(20, args.cases)
    if "and12" in only:
        bench_parallel(12, args.cases)
    if "sepsis" in only:
        log_path, net_path = DATASETS / "sepsis" / "sepsis.xes.gz", DATASETS / "sepsis" / "sepsis_normative.pnml"
        if log_path.exists() and net_path.exists():
            import pm4py

            log = pm4py.read_xes(str(log_path), show_progress_bar=False)
            net, im, fm = pm4py.read_pnml(str(net_path))
            bench_net("Sepsis", CompiledNet(net, im, fm), variants_of(log)[::args.sepsis_every])
        else:
            print(f"Sepsis: skipped ({log_path} is absent)")
    if "sops" in only:
        for path in sorted((ROOT / "reference_models").glob("*.yaml")):
            net = compile_sop(sa.load_sop(path))
            bench_net(path.stem, net, playouts(net, 300, seed=7))


if __name__ == "__main__":
    main()
