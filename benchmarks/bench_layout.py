"""Benchmark: our layered layout against grandalf (pure-Python Sugiyama) and Graphviz dot.

    .venv/bin/python benchmarks/bench_layout.py [--nodes 40] [--edges 80] [--repeat 3]

Graphs: every shipped SOP flowchart (reference_models/*.yaml, as sopaudit.sop.draw draws
them), the demo process map (event_logs/paspor_demo_synthetic.csv, default thresholds) and a
generated graph (--nodes, --edges, fixed seed, some edges labelled, a few self loops).
All engines get the same node and label sizes (measured and wrapped by sopaudit.drawing).

Per graph and engine:
- time: best of --repeat layouts, in ms;
- crossings: proper intersections between the drawn lines of two edges that share no node
  (curves sampled; grandalf's lines are straight segments through its dummies, node centre to
  node centre, the way grandalf routes them);
- overlaps: pairs of node boxes or label boxes that overlap (or a label on a node);
- over boxes: (edge, box) pairs where an edge's line passes through a node or label box that
  is not its own end or label;
- deterministic: the same coordinates in 3 fresh processes with PYTHONHASHSEED 0, 1, 2;
- dropped: edges the engine does not draw (grandalf drops self loops).

grandalf gets each edge label as a vertex of the label's size in the middle of its edge (the
usual way to place labels with a layout that has none), so its labels can be checked too.
grandalf and dot are optional: a missing one is reported and skipped. Neither is a dependency
of sopaudit (pip install grandalf; apt-get install graphviz).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sopaudit import drawing as dr
from sopaudit.drawing.state import prepare

ROOT = Path(__file__).resolve().parents[1]
Polyline = list[tuple[float, float]]


@dataclass
class Drawn:
    """What the checks need of a layout, whatever engine made it."""

    boxes: dict[str, dr.Box]  # node id -> box
    labels: list[tuple[int, dr.Box]]  # (edge index, label box)
    lines: list[tuple[int, Polyline]]  # (edge index, drawn line)
    dropped: int

    def signature(self) -> str:
        data = (sorted((k, round(b.x, 2), round(b.y, 2)) for k, b in self.boxes.items()),
                [(k, [(round(x, 2), round(y, 2)) for x, y in p]) for k, p in self.lines])
        return hashlib.sha1(repr(data).encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------------------------
# graphs


def graphs(n_nodes: int, n_edges: int) -> dict[str, tuple[list[dr.Node], list[dr.Edge]]]:
    import sopaudit as sa
    from sopaudit.sop import draw as sop_draw

    out = {}
    for y in sorted((ROOT / "reference_models").glob("*.yaml")):
        out[f"SOP {y.stem}"] = sop_draw.flowchart(sa.load_sop(y))
    log = sa.read_log(ROOT / "event_logs" / "paspor_demo_synthetic.csv",
                      mapping={"case": "no_permohonan", "activity": "tahapan", "time": "waktu",
                               "resource": "petugas"}, tz="Asia/Pontianak")
    out["demo process map"] = sa.discover(log).graph()
    out[f"generated {n_nodes}n/{n_edges}e"] = generated(n_nodes, n_edges)
    return out


def generated(n_nodes: int, n_edges: int, seed: int = 7) -> tuple[list[dr.Node], list[dr.Edge]]:
    """A process-like graph: a main flow, then random extra edges (forward, back, a few self
    loops), a third of them labelled."""
    rnd = random.Random(seed)
    words = ["terima", "verifikasi", "berkas", "permohonan", "cetak", "surat", "wawancara"]
    nodes = [dr.Node(f"n{i}", " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 4))))
             for i in range(n_nodes)]
    pairs = [(i, i + 1) for i in range(n_nodes - 1)]
    while len(pairs) < n_edges:
        a = rnd.randrange(n_nodes)
        b = a if rnd.random() < 0.04 else rnd.randrange(n_nodes)
        pairs.append((a, b))
    edges = [dr.Edge(f"n{a}", f"n{b}", label=str(rnd.randint(1, 999)) if rnd.random() < 0.33 else "",
                     weight=float(rnd.choice([1, 2, 5, 20, 100]))) for a, b in pairs]
    return nodes, edges


# ---------------------------------------------------------------------------------------------
# engines


def ours(nodes: list[dr.Node], edges: list[dr.Edge], engine: str = "builtin") -> Drawn:
    lay = dr.layout_graph(nodes, edges, engine=engine)  # type: ignore[arg-type]
    return Drawn({k: nb.box for k, nb in lay.nodes.items()},
                 [(k, r.label_box) for k, r in enumerate(lay.edges) if r.label_box is not None],
                 [(k, r.points(steps=6)) for k, r in enumerate(lay.edges) if not r.self_loop],
                 0)


def dot(nodes: list[dr.Node], edges: list[dr.Edge]) -> Drawn:
    return ours(nodes, edges, engine="dot")


def grandalf(nodes: list[dr.Node], edges: list[dr.Edge]) -> Drawn:
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        def __init__(self, w: float, h: float) -> None:
            self.w, self.h, self.xy = w, h, (0.0, 0.0)

        def setpath(self, pts: Polyline) -> None:
            self.path = [tuple(p) for p in pts]

    g = prepare(nodes, edges, {n.id: i for i, n in enumerate(nodes)}, dr.Style())
    verts = [Vertex(nd.id) for nd in nodes]
    for v, (w, h) in zip(verts, g.node_size, strict=True):
        v.view = View(w, h)
    parts: list[tuple[int, list]] = []  # (edge index, grandalf edges in order)
    gedges, label_vertex, dropped = [], {}, 0
    for k, e in enumerate(edges):
        a, b = verts[g.index[e.source]], verts[g.index[e.target]]
        if a is b:
            dropped += 1  # grandalf removes self loops ("degenerated edges")
            continue
        if g.edge_lines[k]:
            lv = Vertex(("label", k))
            lv.view = View(*g.edge_label_size[k])
            label_vertex[k] = lv
            verts.append(lv)
            chain = [Edge(a, lv, w=max(g.w[k], 1e-3)), Edge(lv, b, w=max(g.w[k], 1e-3))]
        else:
            chain = [Edge(a, b, w=max(g.w[k], 1e-3))]
        for ge in chain:
            ge.view = View(0, 0)
        gedges.extend(chain)
        parts.append((k, chain))
    graph = Graph(verts, gedges)
    x0 = 0.0
    for comp in graph.C:
        sug = SugiyamaLayout(comp)
        sug.xspace, sug.yspace = g.style.node_gap, g.style.layer_gap
        sug.init_all()
        sug.draw(3)
        # components side by side
        left = min(v.view.xy[0] - v.view.w / 2 for v in comp.sV)
        right = max(v.view.xy[0] + v.view.w / 2 for v in comp.sV)
        shift = x0 - left
        for v in comp.sV:
            v.view.xy = (v.view.xy[0] + shift, v.view.xy[1])
        for ge in comp.sE:
            if hasattr(ge.view, "path"):
                ge.view.path = [(x + shift, y) for x, y in ge.view.path]
        x0 += right - left + g.style.node_gap

    def box(v: Vertex) -> dr.Box:
        (cx, cy), w, h = v.view.xy, v.view.w, v.view.h
        return dr.Box(cx - w / 2, cy - h / 2, w, h)

    lines = []
    for k, chain in parts:
        line: Polyline = []
        for ge in chain:
            p = list(getattr(ge.view, "path", [ge.v[0].view.xy, ge.v[1].view.xy]))
            if p and p[0] != tuple(ge.v[0].view.xy):
                p.reverse()
            line.extend(p if not line else p[1:])
        lines.append((k, line))
    return Drawn({nd.id: box(v) for nd, v in zip(nodes, verts, strict=False)},
                 [(k, box(v)) for k, v in label_vertex.items()], lines, dropped)


ENGINES: dict[str, Callable[[list[dr.Node], list[dr.Edge]], Drawn]] = {
    "sopaudit": ours, "grandalf": grandalf, "dot": dot}


def available() -> dict[str, str]:
    """Engine -> why it is missing ('' when it can run)."""
    out = {"sopaudit": ""}
    try:
        import grandalf as _  # noqa: F401

        out["grandalf"] = ""
    except ImportError:
        out["grandalf"] = "not installed (pip install grandalf)"
    out["dot"] = "" if shutil.which("dot") else "not installed (apt-get install graphviz)"
    return out


# ---------------------------------------------------------------------------------------------
# checks


def crossings(d: Drawn, edges: list[dr.Edge]) -> int:
    """Proper intersections between the lines of two edges with no node in common."""
    segs = []
    for k, line in d.lines:
        p = np.asarray(line, dtype=float)
        if len(p) < 2:
            continue
        s = np.hstack([p[:-1], p[1:]])
        segs.append((k, s, s[:, [0, 2]].min(), s[:, [0, 2]].max(), s[:, [1, 3]].min(),
                     s[:, [1, 3]].max()))
    total = 0
    for i, (ka, a, ax0, ax1, ay0, ay1) in enumerate(segs):
        ends_a = {edges[ka].source, edges[ka].target}
        for kb, b, bx0, bx1, by0, by1 in segs[i + 1 :]:
            if ends_a & {edges[kb].source, edges[kb].target}:
                continue
            if ax1 < bx0 or bx1 < ax0 or ay1 < by0 or by1 < ay0:
                continue
            total += _segment_hits(a, b)
    return total


def _segment_hits(a: np.ndarray, b: np.ndarray) -> int:
    p, r = a[:, None, :2], a[:, None, 2:] - a[:, None, :2]
    q, s = b[None, :, :2], b[None, :, 2:] - b[None, :, :2]
    denom = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    qp = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[..., 0] * s[..., 1] - qp[..., 1] * s[..., 0]) / denom
        u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / denom
    # half-open so a crossing at a sample point counts once
    hit = (denom != 0) & (t >= 0) & (t < 1) & (u >= 0) & (u < 1)
    return int(hit.sum())


def overlaps(d: Drawn) -> int:
    boxes = list(d.boxes.values()) + [b for _, b in d.labels]
    return sum(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def over_boxes(d: Drawn, edges: list[dr.Edge]) -> int:
    labels = dict(d.labels)
    count = 0
    for k, line in d.lines:
        pts = _densify(line)
        own = {edges[k].source, edges[k].target}
        others = [b for nid, b in d.boxes.items() if nid not in own]
        others += [b for j, b in labels.items() if j != k]
        for b in others:
            inner = dr.Box(b.x + 1, b.y + 1, b.w - 2, b.h - 2)
            if any(inner.x < x < inner.right and inner.y < y < inner.bottom for x, y in pts):
                count += 1
    return count


def _densify(line: Polyline, step: float = 4.0) -> Polyline:
    out = []
    for (x0, y0), (x1, y1) in zip(line, line[1:], strict=False):
        n = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) / step))
        out.extend((x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n))
    return out + line[-1:]


# ---------------------------------------------------------------------------------------------


def signatures(n_nodes: int, n_edges: int) -> dict[str, str]:
    ok = available()
    return {f"{name}|{eng}": fn(*g).signature()
            for name, g in graphs(n_nodes, n_edges).items()
            for eng, fn in ENGINES.items() if not ok[eng]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=40)
    ap.add_argument("--edges", type=int, default=80)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--signatures", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.signatures:
        print(json.dumps(signatures(args.nodes, args.edges)))
        return
    ok = available()
    for eng, why in ok.items():
        if why:
            print(f"{eng}: {why}; skipped")
    runs = []
    for seed in range(3):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        proc = subprocess.run([sys.executable, __file__, "--signatures", "--nodes", str(args.nodes),
                               "--edges", str(args.edges)], env=env, capture_output=True,
                              text=True, check=True, timeout=600)
        runs.append(json.loads(proc.stdout))
    head = (f"{'graph':38} {'engine':9} {'n/e':>7} {'ms':>8} {'cross':>6} {'overl':>6} "
            f"{'overbox':>7} {'dropped':>7} {'determ.':>7} {'w x h':>11}")
    print(head)
    print("-" * len(head))
    for name, (nodes, edges) in graphs(args.nodes, args.edges).items():
        for eng, fn in ENGINES.items():
            if ok[eng]:
                continue
            times, d = [], None
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                d = fn(nodes, edges)
                times.append(time.perf_counter() - t0)
            assert d is not None
            key = f"{name}|{eng}"
            same = "yes" if len({r[key] for r in runs} | {d.signature()}) == 1 else "NO"
            allb = list(d.boxes.values()) + [b for _, b in d.labels]
            w = max(b.right for b in allb) - min(b.x for b in allb)
            h = max(b.bottom for b in allb) - min(b.y for b in allb)
            print(f"{name:38} {eng:9} {len(nodes):>3}/{len(edges):<3} {min(times) * 1000:8.1f} "
                  f"{crossings(d, edges):6d} {overlaps(d):6d} {over_boxes(d, edges):7d} "
                  f"{d.dropped:7d} {same:>7} {w:5.0f}x{h:<5.0f}")


if __name__ == "__main__":
    main()
