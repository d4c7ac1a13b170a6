"""Benchmark: discovery on BPI Challenge 2015 (municipality 1) against pm4py in the same run.

    .venv/bin/python benchmarks/bench_discover.py [--log PATH] [--repeat 9]

Times (best of --repeat runs, so a busy shared machine disturbs them less):
- sopaudit.discovery.mining.dfg against pm4py.discover_dfg (both give the same counts; checked here);
- sopaudit.discovery.mining.variants against pm4py.get_variants; pm4py's function does not sort the
  log (it relies on rows grouped by case in time order), ours does, so pm4py is timed both on
  the log as read and including a stable sort by case and time first;
- discover (all three tables with one sort), the layout of a 30-activity map, its SVG and PNG;
- sop_flows and compare on the sepsis log against its normative PNML model (when present).
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import pandas as pd

from sopaudit import drawing
from sopaudit.discovery import flows as C
from sopaudit.discovery import mining as D
from sopaudit.discovery import processmap as P

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
CASE, ACT, TIME = "case:concept:name", "concept:name", "time:timestamp"


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def read(path: Path) -> pd.DataFrame:
    import pm4py

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pm4py.read_xes(str(path), show_progress_bar=False)


def main() -> None:
    import pm4py

    ap = argparse.ArgumentParser()
    ap.add_argument("--log", type=Path, default=DATASETS / "bpic2015" / "bpic15_municipality1.xes.gz")
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    log = read(args.log)
    print(f"log: {args.log.name}: {log[CASE].nunique():,} cases, {len(log):,} events, "
          f"{log[ACT].nunique():,} activities")
    r = args.repeat

    ours, d = best(lambda: D.dfg(log), r)
    theirs, (pdfg, pstart, pend) = best(lambda: pm4py.discover_dfg(log), r)
    inner = d[(d.source != D.START) & (d.target != D.END)]
    same = (dict(zip(zip(inner.source, inner.target, strict=True), inner["count"], strict=True)) == dict(pdfg)
            and dict(zip(d[d.source == D.START].target, d[d.source == D.START]["count"], strict=True)) == dict(pstart)
            and dict(zip(d[d.target == D.END].source, d[d.target == D.END]["count"], strict=True)) == dict(pend))
    print(f"dfg:       sopaudit {ours * 1000:7.1f} ms   pm4py.discover_dfg {theirs * 1000:7.1f} ms   "
          f"ratio pm4py/sopaudit {theirs / ours:5.2f}x   same counts: {same}  ({len(d):,} edges incl. start/end)")

    ours, v = best(lambda: D.variants(log), r)
    theirs, pv = best(lambda: pm4py.get_variants(log), r)
    sorted_log = log.sort_values([CASE, TIME], kind="stable")
    theirs_sorted, _ = best(lambda: pm4py.get_variants(log.sort_values([CASE, TIME], kind="stable")), r)
    same = dict(zip(v["activities"], v["count"], strict=True)) == {k: int(c) for k, c in
                                                                  pm4py.get_variants(sorted_log).items()}
    print(f"variants:  sopaudit {ours * 1000:7.1f} ms   pm4py.get_variants {theirs * 1000:7.1f} ms "
          f"(sorted first {theirs_sorted * 1000:7.1f} ms)   ratio {theirs / ours:5.2f}x / {theirs_sorted / ours:5.2f}x"
          f"   same counts: {same}  ({len(v):,} variants, {len(pv):,} from pm4py)")

    t_disc, pm = best(lambda: P.discover(log), r)
    print(f"discover:  {t_disc * 1000:7.1f} ms (dfg, variants and activity stats, one sort)")
    for max_nodes, share in ((30, 0.1), (40, 0.01)):
        t_lay, lay = best(lambda m=max_nodes, s=share: pm.layout(max_nodes=m, min_edge_share=s), max(1, r // 3))
        t_svg, _ = best(lambda lay=lay: drawing.render_svg(lay), max(1, r // 3))
        t_png, _ = best(lambda lay=lay: drawing.render_png(lay), 1)
        print(f"map {max_nodes} activities, edges >= {share:.0%} of cases: {len(lay.nodes)} nodes, "
              f"{len(lay.edges)} edges; layout {t_lay * 1000:7.1f} ms, SVG {t_svg * 1000:6.1f} ms, "
              f"PNG {t_png * 1000:7.1f} ms")

    model = DATASETS / "sepsis" / "sepsis_normative.pnml"
    sepsis = DATASETS / "sepsis" / "sepsis.xes.gz"
    if model.exists() and sepsis.exists():
        import sopaudit as sa

        sop = sa.load_sop(model)
        slog = read(sepsis)
        t_flows, flows = best(lambda: C.sop_flows(sop), r)
        t_cmp, table = best(lambda: C.compare(slog, sop, flows=flows), r)
        print(f"sepsis against its normative net: sop_flows {t_flows * 1000:6.1f} ms "
              f"({len(flows.pairs)} allowed pairs), compare {t_cmp * 1000:6.1f} ms ({len(table)} rows)")


if __name__ == "__main__":
    main()
