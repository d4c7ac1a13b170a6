"""The optional Graphviz path: ``layout_graph(..., engine="dot")`` lays out with an installed
``dot`` program (labels measured and wrapped as in the own layout) and reads its ``-Tplain``
output back into a :class:`Layout`. Graphviz is never required."""

from __future__ import annotations

import math
import shutil
import subprocess

from sopaudit.drawing.model import (
    Box,
    Edge,
    EdgeRoute,
    Layout,
    Node,
    NodeBox,
    Point,
    Style,
    round_box,
    round_path,
    round_point,
    round_px,
)
from sopaudit.drawing.state import Graph, edge_width, prepare


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def layout_with_dot(nodes: list[Node], edges: list[Edge], style: Style) -> Layout:
    """The layout computed by Graphviz ``dot``; a RuntimeError if it is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "engine='dot' needs Graphviz's dot program on the PATH; it is not installed, "
            "use the built-in layout (engine='builtin')"
        )
    st = style
    b = prepare(nodes, edges, {n.id: i for i, n in enumerate(nodes)}, st)
    lines = ["digraph G {", "rankdir=TB; nodesep=0.35; ranksep=0.4;"]
    dot_shape = {"box": "box", "diamond": "diamond", "terminator": "box", "circle": "ellipse"}
    for i, nd in enumerate(nodes):
        w, h = b.node_size[i]
        lines.append(
            f'n{i} [shape={dot_shape[nd.shape]}, fixedsize=true, label="", '
            f"width={w / 72:.4f}, height={h / 72:.4f}];"
        )
    for rank in ("first", "last"):
        members = " ".join(f"n{i};" for i, nd in enumerate(nodes) if nd.rank == rank)
        if members:
            lines.append(f"{{rank={'min' if rank == 'first' else 'max'}; {members}}}")
    for k, e in enumerate(edges):
        s, t = b.index[e.source], b.index[e.target]
        attrs = f"weight={max(1, round(3 * b.w[k] / b.wmax))}"
        if b.edge_lines[k]:
            text = "\n".join(b.edge_lines[k])
            attrs += f", label={_dot_quote(text)}, fontsize={st.edge_font_size}"
        lines.append(f"n{s} -> n{t} [{attrs}];")
    lines.append("}")
    proc = subprocess.run(
        [exe, "-Tplain"],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return _layout_from_plain(proc.stdout, nodes, edges, b, st)


def _layout_from_plain(
    plain: str, nodes: list[Node], edges: list[Edge], b: Graph, st: Style
) -> Layout:
    """Build a Layout from Graphviz ``-Tplain`` output (inches, y up)."""
    graph_w = graph_h = 0.0
    centres: dict[int, Point] = {}
    splines: list[tuple[int, int, list[Point], Point | None]] = []
    for raw in plain.splitlines():
        parts = raw.split()
        if not parts:
            continue
        if parts[0] == "graph":
            graph_w, graph_h = float(parts[2]) * 72, float(parts[3]) * 72
        elif parts[0] == "node":
            centres[int(parts[1][1:])] = (float(parts[2]) * 72, float(parts[3]) * 72)
        elif parts[0] == "edge":
            s, t, n = int(parts[1][1:]), int(parts[2][1:]), int(parts[3])
            pts = [(float(parts[4 + 2 * i]) * 72, float(parts[5 + 2 * i]) * 72) for i in range(n)]
            rest = parts[4 + 2 * n :]
            lab = None
            if len(rest) >= 5:
                lab = (float(rest[-4]) * 72, float(rest[-3]) * 72)
            splines.append((s, t, pts, lab))
    m = st.margin
    node_boxes: dict[str, NodeBox] = {}
    for i, nd in enumerate(nodes):
        w, h = b.node_size[i]
        cx, cy = centres[i]
        node_boxes[nd.id] = NodeBox(
            nd, round_box(Box(cx - w / 2 + m, graph_h - cy - h / 2 + m, w, h)), 0, b.node_lines[i]
        )
    # dot lists edges grouped by tail node: match them to ours by (tail, head) in input order
    queue: dict[tuple[int, int], list[int]] = {}
    for k, e in enumerate(edges):
        queue.setdefault((b.index[e.source], b.index[e.target]), []).append(k)
    routes_by_edge: dict[int, EdgeRoute] = {}
    for s_, t_, pts, lab in splines:
        k = queue[(s_, t_)].pop(0)
        p = [(x + m, graph_h - y + m) for x, y in pts]
        path: list[tuple[str, tuple[Point, ...]]] = [("M", (p[0],))]
        for i in range(1, len(p) - 2, 3):
            path.append(("C", (p[i], p[i + 1], p[i + 2])))
        end = p[-1]
        prev = p[-2] if len(p) > 1 else (end[0], end[1] - 1)
        d = math.hypot(end[0] - prev[0], end[1] - prev[1]) or 1.0
        direction = ((end[0] - prev[0]) / d, (end[1] - prev[1]) / d)
        tip = (end[0] + direction[0] * st.arrow_length, end[1] + direction[1] * st.arrow_length)
        label_box = None
        if lab is not None and b.edge_lines[k]:
            lw, lh = b.edge_label_size[k]
            label_box = Box(lab[0] + m - lw / 2, graph_h - lab[1] + m - lh / 2, lw, lh)
        routes_by_edge[k] = EdgeRoute(
            edges[k],
            round_path(path),
            round_point(tip),
            round_point(direction),
            round_px(edge_width(b, k)),
            round_box(label_box),
            b.edge_lines[k],
            back=p[-1][1] < p[0][1],
            self_loop=edges[k].source == edges[k].target,
        )
    routes = [routes_by_edge[k] for k in sorted(routes_by_edge)]
    width = graph_w + 2 * m
    height = graph_h + 2 * m
    return Layout(node_boxes, routes, round_px(width), round_px(height), st)
