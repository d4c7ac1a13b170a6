"""Layered graph layout and rendering to SVG and PNG, with no system Graphviz needed.

Used for the discovered process map and for SOP flowcharts. The layout is a deterministic
Sugiyama-style pipeline, oriented top to bottom:

1. cycle breaking: a depth-first search (heaviest edges first, then input order) reverses the
   edges that close a cycle; they keep their direction in the drawing, leave the right side of
   their source and enter the right side of their target, and are drawn as curves;
2. layering: longest path, then nodes slide to shorten heavy edges; ``Node.rank`` pins a node
   to the first or last layer (start and end of a process);
3. the layers are doubled so that every edge passes through at least one dummy node; long edges
   get one dummy per layer, and an edge label is a box attached to one of its dummies, so labels
   take part in the layout and never overlap boxes or each other;
4. crossing reduction: weighted barycenter sweeps, keeping the ordering with fewest crossings;
5. coordinates: per layer a weighted least-squares fit to the neighbours' ports under minimum
   separation constraints (pool-adjacent-violators), alternating sweeps; boxes never overlap;
6. routing: straight vertical runs inside layers, S-curves between layers.

The computed :class:`Layout` exposes every node box and label box, so tests can check overlaps.
Rendering writes SVG text itself (every label and attribute escaped) or draws the same layout
with matplotlib for PNG. Graphviz ``dot`` is used only if asked for with ``engine="dot"``.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import html
import io
import math
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = [
    "Box",
    "Edge",
    "EdgeRoute",
    "Layout",
    "Node",
    "NodeBox",
    "Style",
    "draw",
    "layout_graph",
    "render_png",
    "render_svg",
    "text_width",
    "wrap_text",
]

Shape = Literal["box", "diamond", "terminator", "circle"]
SHAPES: tuple[str, ...] = ("box", "diamond", "terminator", "circle")
Point = tuple[float, float]

# Advance widths of DejaVu Sans (the font matplotlib ships and the first in the SVG font list)
# for the printable ASCII characters 32..126, in thousandths of an em.
# fmt: off
_DEJAVU_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
    770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732,
    684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
    634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,
    525, 636, 337, 636, 838,
)
# fmt: on


def _char_width(ch: str) -> int:
    code = ord(ch)
    if 32 <= code < 127:
        return _DEJAVU_WIDTHS[code - 32]
    if unicodedata.combining(ch):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    return 700


def text_width(text: str, font_size: float) -> float:
    """Estimated width in pixels of one line of text in DejaVu Sans, a little generous for
    fonts a browser may substitute."""
    return sum(_char_width(c) for c in text) * font_size / 1000.0


def wrap_text(text: str, font_size: float, max_width: float) -> list[str]:
    """Split a label into lines no wider than ``max_width`` pixels: explicit newlines first,
    then at spaces, and inside words that are too long on their own."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        words = paragraph.split()
        if not words:
            lines.append("")
            continue
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, font_size) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            # hard-break a word that does not fit on a line of its own
            while text_width(word, font_size) > max_width and len(word) > 1:
                cut = 1
                while cut < len(word) and text_width(word[: cut + 1], font_size) <= max_width:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


# ---------------------------------------------------------------------------------------------
# Input and output types


@dataclass(frozen=True)
class Node:
    """A node to draw. ``rank`` may be ``"first"`` or ``"last"`` to pin it to the top or bottom
    layer; ``order`` is an optional hint of where the node belongs in the flow (e.g. the step
    number of an SOP, or an activity's typical position in a case): edges against the hint are
    the ones drawn as back edges. ``text_color`` defaults to black or white, whichever reads
    better on ``fill``."""

    id: str
    label: str | None = None
    shape: str = "box"
    fill: str = "#ffffff"
    tooltip: str = ""
    stroke: str = "#4d4d4d"
    text_color: str | None = None
    rank: str = ""
    order: float | None = None

    @property
    def text(self) -> str:
        return self.id if self.label is None else self.label


@dataclass(frozen=True)
class Edge:
    """A directed edge; ``weight`` sets the line width (relative to the heaviest edge) and how
    hard the layout tries to keep the edge short and straight."""

    source: str
    target: str
    label: str = ""
    weight: float = 1.0
    color: str = "#6b6b6b"
    dashed: bool = False
    tooltip: str = ""


@dataclass(frozen=True)
class Style:
    """Sizes (pixels) and fonts of a drawing."""

    font_family: str = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif"
    font_size: float = 12.0
    edge_font_size: float = 11.0
    line_height: float = 1.25  # in ems
    max_label_width: float = 170.0
    max_edge_label_width: float = 120.0
    node_padding_x: float = 10.0
    node_padding_y: float = 7.0
    min_node_width: float = 40.0
    node_gap: float = 28.0
    dummy_gap: float = 10.0
    layer_gap: float = 22.0
    lane_gap: float = 13.0
    label_offset: float = 4.0
    min_edge_width: float = 1.2
    max_edge_width: float = 7.0
    arrow_length: float = 9.0
    arrow_width: float = 8.0
    margin: float = 16.0
    background: str = "#ffffff"
    crossing_sweeps: int = 12
    coordinate_sweeps: int = 10


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle; ``x, y`` is the top-left corner (y grows downwards)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        """True if the two boxes share more than a boundary (or come closer than ``gap``)."""
        return (
            self.x < other.right + gap
            and other.x < self.right + gap
            and self.y < other.bottom + gap
            and other.y < self.bottom + gap
        )


@dataclass(frozen=True)
class NodeBox:
    """Where a node is drawn: its box, layer and wrapped label lines."""

    node: Node
    box: Box
    layer: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class EdgeRoute:
    """How an edge is drawn: a path of SVG-like commands (``M``/``L`` with one point, ``C`` with
    three) ending at the base of the arrow head, the arrow tip and its unit direction, the line
    width, and the label box and lines (or None)."""

    edge: Edge
    path: tuple[tuple[str, tuple[Point, ...]], ...]
    tip: Point
    direction: Point
    width: float
    label_box: Box | None
    label_lines: tuple[str, ...]
    back: bool = False
    self_loop: bool = False

    def points(self, steps: int = 12) -> list[Point]:
        """Points along the drawn line (``steps`` per segment), for checks such as "no edge
        crosses a box"."""
        out: list[Point] = []
        cur: Point = (0.0, 0.0)
        for cmd, pts in self.path:
            if cmd == "M":
                cur = pts[0]
                out.append(cur)
                continue
            for i in range(1, steps + 1):
                t = i / steps
                if cmd == "L":
                    p = pts[0]
                    out.append((cur[0] + (p[0] - cur[0]) * t, cur[1] + (p[1] - cur[1]) * t))
                else:
                    (c1, c2, p), u = pts, 1 - t
                    out.append(
                        (
                            u**3 * cur[0]
                            + 3 * u * u * t * c1[0]
                            + 3 * u * t * t * c2[0]
                            + t**3 * p[0],
                            u**3 * cur[1]
                            + 3 * u * u * t * c1[1]
                            + 3 * u * t * t * c2[1]
                            + t**3 * p[1],
                        )
                    )
            cur = pts[-1]
        return out


@dataclass
class Layout:
    """A computed drawing: node boxes, edge routes, and the canvas size."""

    nodes: dict[str, NodeBox]
    edges: list[EdgeRoute]
    width: float
    height: float
    style: Style = field(default_factory=Style)

    def node_boxes(self) -> list[Box]:
        """The box of every node, in input order."""
        return [nb.box for nb in self.nodes.values()]

    def label_boxes(self) -> list[Box]:
        """The box of every edge label that is drawn."""
        return [r.label_box for r in self.edges if r.label_box is not None]

    def to_svg(self, title: str = "") -> str:
        """The drawing as SVG text."""
        return render_svg(self, title=title)

    def _repr_svg_(self) -> str:
        return render_svg(self)


# ---------------------------------------------------------------------------------------------
# Shapes


def _node_size(shape: str, text_w: float, text_h: float, style: Style) -> tuple[float, float]:
    w = text_w + 2 * style.node_padding_x
    h = text_h + 2 * style.node_padding_y
    if shape == "diamond":
        # the label's rectangle fits inside: tw/W + th/H <= 1
        w, h = w * 1.7, h * 2.45
    elif shape == "terminator":
        w = text_w + h
    elif shape == "circle":
        d = max(math.hypot(text_w + 6, text_h + 6), 2 * style.font_size)
        w = h = d
    return max(w, style.min_node_width if shape != "circle" else 0.0), h


def _half_height_at(shape: str, w: float, h: float, dx: float) -> float:
    """Vertical distance from the centre to the outline at horizontal offset ``dx``."""
    hw, hh = w / 2, h / 2
    dx = min(abs(dx), hw * 0.999)
    if shape == "diamond":
        return hh * (1 - dx / hw)
    if shape == "circle":
        return hh * math.sqrt(max(0.0, 1 - (dx / hw) ** 2))
    if shape == "terminator":
        r = hh
        flat = hw - r
        if dx <= flat:
            return hh
        return math.sqrt(max(0.0, r * r - (dx - flat) ** 2))
    return hh


def _half_width_at(shape: str, w: float, h: float, dy: float) -> float:
    """Horizontal distance from the centre to the outline at vertical offset ``dy``."""
    hw, hh = w / 2, h / 2
    dy = min(abs(dy), hh * 0.999)
    if shape == "diamond":
        return hw * (1 - dy / hh)
    if shape == "circle":
        return hw * math.sqrt(max(0.0, 1 - (dy / hh) ** 2))
    if shape == "terminator":
        r = hh
        return hw - r + math.sqrt(max(0.0, r * r - dy * dy))
    return hw


# ---------------------------------------------------------------------------------------------
# Layout


@dataclass
class _Item:
    """A node or a dummy in the layered graph."""

    layer: int
    left: float  # extent left of the anchor x
    right: float  # extent right of the anchor x
    height: float
    node: int = -1  # index of the real node, -1 for a dummy
    label: tuple[str, ...] = ()
    label_w: float = 0.0
    label_h: float = 0.0
    ups: list[int] = field(default_factory=list)  # segment ids to the layer above
    downs: list[int] = field(default_factory=list)  # segment ids to the layer below


@dataclass
class _Segment:
    upper: int
    lower: int
    weight: float
    chain: int
    off_upper: float = 0.0
    off_lower: float = 0.0
    lane_upper: bool = False  # attached to a side lane of the upper node (a reversed edge)
    lane_lower: bool = False

    def key_upper(self, pos: list[int]) -> int:
        """Order key of the upper end: a side lane sits just right of its node."""
        return 2 * pos[self.upper] + self.lane_upper

    def key_lower(self, pos: list[int]) -> int:
        return 2 * pos[self.lower] + self.lane_lower


def layout_graph(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    style: Style | None = None,
    engine: Literal["builtin", "dot"] = "builtin",
) -> Layout:
    """Compute a top-to-bottom layered layout of the graph. Deterministic: the same input gives
    the same layout. ``engine="dot"`` uses an installed Graphviz instead of the own layout."""
    style = style or Style()
    nodes = list(nodes)
    edges = list(edges)
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"node ids must be unique; repeated: {dup[:5]}")
    index = {n: i for i, n in enumerate(ids)}
    for e in edges:
        if e.source not in index or e.target not in index:
            missing = e.source if e.source not in index else e.target
            raise ValueError(f"edge {e.source!r} -> {e.target!r} names an unknown node {missing!r}")
    for n in nodes:
        if n.shape not in SHAPES:
            raise ValueError(f"node {n.id!r} has shape {n.shape!r}; use one of {SHAPES}")
        if n.rank not in ("", "first", "last"):
            raise ValueError(f"node {n.id!r} has rank {n.rank!r}; use '', 'first' or 'last'")
    if engine == "dot":
        return _layout_with_dot(nodes, edges, style)
    if engine != "builtin":
        raise ValueError(f"unknown layout engine {engine!r}; use 'builtin' or 'dot'")
    return _Builder(nodes, edges, index, style).run()


class _Builder:
    def __init__(self, nodes: list[Node], edges: list[Edge], index: dict[str, int], style: Style):
        self.nodes = nodes
        self.edges = edges
        self.index = index
        self.style = style
        self.n = len(nodes)
        # weights as clean non-negative floats (NaN, inf or negative count as 0)
        self.w = [
            float(e.weight) if math.isfinite(float(e.weight)) and e.weight > 0 else 0.0
            for e in edges
        ]
        self.wmax = max(self.w, default=1.0) or 1.0
        self.wmin = min(self.w, default=1.0)
        self.items: list[_Item] = []
        self.segments: list[_Segment] = []
        self.chains: list[list[int]] = []  # per edge (empty for self loops): items top to bottom
        self.reversed: list[bool] = [False] * len(edges)
        self.self_loops: list[bool] = [e.source == e.target for e in edges]

    # -- sizes ---------------------------------------------------------------------------
    def _measure(self) -> None:
        st = self.style
        lh = st.font_size * st.line_height
        self.node_lines: list[tuple[str, ...]] = []
        self.node_size: list[tuple[float, float]] = []
        for nd in self.nodes:
            lines = tuple(wrap_text(nd.text, st.font_size, st.max_label_width))
            tw = max((text_width(s, st.font_size) for s in lines), default=0.0)
            th = lh * len(lines)
            self.node_lines.append(lines)
            self.node_size.append(_node_size(nd.shape, tw, th, st))
        elh = st.edge_font_size * st.line_height
        self.edge_lines: list[tuple[str, ...]] = []
        self.edge_label_size: list[tuple[float, float]] = []
        for e in self.edges:
            if e.label:
                lines = tuple(wrap_text(e.label, st.edge_font_size, st.max_edge_label_width))
                tw = max(text_width(s, st.edge_font_size) for s in lines)
                self.edge_lines.append(lines)
                self.edge_label_size.append((tw + 2, elh * len(lines)))
            else:
                self.edge_lines.append(())
                self.edge_label_size.append((0.0, 0.0))

    # -- cycles and layers -----------------------------------------------------------------
    def _break_cycles(self) -> list[tuple[int, int, float, int]]:
        """Edges as (top, bottom, weight, edge id) of an acyclic graph.

        A depth-first search (heaviest edges first, then input order) gives a first linear
        order of the nodes (reverse post-order); then each node in turn moves to the place in
        that order where the weight of the heavy edges pointing backwards is smallest
        (sifting), so a heavy edge is not drawn backwards just because the search met a lighter
        one first. With ``Node.order`` hints, the hints give the order instead.
        Edges that point backwards in the final order are reversed for layering."""
        n = self.n
        out: list[list[int]] = [[] for _ in range(n)]
        has_in = [False] * n
        for k, e in enumerate(self.edges):
            if self.self_loops[k]:
                continue
            s, t = self.index[e.source], self.index[e.target]
            out[s].append(k)
            has_in[t] = True
        for s in range(n):
            out[s].sort(key=lambda k: (-self.w[k], k))
        state = [0] * n  # 0 new, 1 on stack, 2 done
        post: list[int] = []
        roots = [i for i in range(n) if not has_in[i]] + list(range(n))
        for root in roots:
            if state[root]:
                continue
            state[root] = 1
            stack = [(root, 0)]
            while stack:
                v, i = stack[-1]
                if i < len(out[v]):
                    stack[-1] = (v, i + 1)
                    t = self.index[self.edges[out[v][i]].target]
                    if state[t] == 0:
                        state[t] = 1
                        stack.append((t, 0))
                else:
                    state[v] = 2
                    post.append(v)
                    stack.pop()
        order = post[::-1]
        hinted = any(nd.order is not None for nd in self.nodes)
        if hinted:
            # nodes without a hint follow the node before them in the search order
            key: dict[int, tuple[float, int]] = {}
            last_hint = -math.inf
            for i, v in enumerate(order):
                h = self.nodes[v].order
                last_hint = float(h) if h is not None else last_hint
                key[v] = (last_hint, i)
            order = sorted(order, key=key.__getitem__)
        firsts = [v for v in order if self.nodes[v].rank == "first"]
        lasts = [v for v in order if self.nodes[v].rank == "last"]
        middle = [v for v in order if self.nodes[v].rank not in ("first", "last")]
        if not hinted:
            middle = self._sift(middle, set(firsts) | set(lasts))
        order = firsts + middle + lasts
        pos = {v: i for i, v in enumerate(order)}
        dag = []
        for k, e in enumerate(self.edges):
            if self.self_loops[k]:
                continue
            s, t = self.index[e.source], self.index[e.target]
            if pos[s] > pos[t]:
                self.reversed[k] = True
                s, t = t, s
            dag.append((s, t, max(self.w[k], 1e-9), k))
        return dag

    def _sift(self, order: list[int], pinned: set[int]) -> list[int]:
        """Move each node to the position of ``order`` that minimises the weight of backward
        heavy edges (at least a tenth of the heaviest edge); ties keep the node where it is.
        Light edges are left to the search order: counting them too lets a cluster of rare
        nodes slip in between two busy ones and stretch the main flow. A few passes."""
        heavy = 0.1 * self.wmax
        w_out: list[dict[int, float]] = [{} for _ in range(self.n)]
        w_in: list[dict[int, float]] = [{} for _ in range(self.n)]
        for k, e in enumerate(self.edges):
            if self.self_loops[k]:
                continue
            s, t = self.index[e.source], self.index[e.target]
            w = max(self.w[k], 1e-9)
            if s in pinned or t in pinned or w < heavy:
                continue
            w_out[s][t] = w_out[s].get(t, 0.0) + w
            w_in[t][s] = w_in[t].get(s, 0.0) + w
        if len(order) > 400:  # quadratic; large graphs keep the search order
            return order
        for _ in range(4):
            moved = False
            for v in list(order):
                if not w_out[v] and not w_in[v]:
                    continue
                cur = order.index(v)
                rest = order[:cur] + order[cur + 1 :]
                cost = sum(w_in[v].values())  # v first: every predecessor edge points back
                best_cost, best_p = None, cur
                costs = []
                for p in range(len(rest) + 1):
                    costs.append(cost)
                    if p < len(rest):
                        u = rest[p]
                        cost += w_out[v].get(u, 0.0) - w_in[v].get(u, 0.0)
                best_cost = min(costs)
                if costs[cur] <= best_cost + 1e-9:
                    continue
                best_p = costs.index(best_cost)
                rest.insert(best_p, v)
                order = rest
                moved = True
            if not moved:
                break
        return order

    def _assign_layers(self, dag: list[tuple[int, int, float, int]]) -> list[int]:
        n = self.n
        preds: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        succs: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        indeg = [0] * n
        for s, t, w, _ in dag:
            succs[s].append((t, w))
            preds[t].append((s, w))
            indeg[t] += 1
        heap = [i for i in range(n) if indeg[i] == 0]
        heapq.heapify(heap)
        topo: list[int] = []
        while heap:
            v = heapq.heappop(heap)
            topo.append(v)
            for t, _ in succs[v]:
                indeg[t] -= 1
                if indeg[t] == 0:
                    heapq.heappush(heap, t)
        layer = [0] * n
        for v in topo:
            for t, _ in succs[v]:
                layer[t] = max(layer[t], layer[v] + 1)
        pinned = [nd.rank in ("first", "last") for nd in self.nodes]
        # slide nodes to shorten heavy edges (coordinate descent on the weighted edge length)
        for _ in range(20):
            changed = False
            top = max(layer, default=0)
            for v in topo:
                if pinned[v]:
                    continue
                lo = max((layer[p] + 1 for p, _ in preds[v]), default=0)
                hi = min((layer[s] - 1 for s, _ in succs[v]), default=top)
                win = sum(w for _, w in preds[v])
                wout = sum(w for _, w in succs[v])
                new = layer[v]
                if wout > win:
                    new = hi
                elif win > wout:
                    new = lo
                new = min(max(new, lo), max(hi, lo))
                if new != layer[v]:
                    layer[v] = new
                    changed = True
            if not changed:
                break

        def push_down() -> None:
            # every edge must go at least one layer down (edges among pinned nodes)
            for v in topo:
                for t, _ in succs[v]:
                    layer[t] = max(layer[t], layer[v] + 1)

        for i, nd in enumerate(self.nodes):
            if nd.rank == "first":
                layer[i] = 0
        push_down()
        free = [layer[i] for i in range(n) if self.nodes[i].rank != "last"]
        bottom = max(free, default=-1) + 1
        for i, nd in enumerate(self.nodes):
            if nd.rank == "last":
                layer[i] = bottom
        push_down()
        # normalise so the top layer is 0
        low = min(layer, default=0)
        return [v - low for v in layer]

    # -- layered graph ------------------------------------------------------------------------
    def _build_items(self, layer: list[int], dag: list[tuple[int, int, float, int]]) -> None:
        st = self.style
        for i in range(self.n):
            w, h = self.node_size[i]
            self.items.append(_Item(layer=2 * layer[i], left=w / 2, right=w / 2, height=h, node=i))
        self.chains = [[] for _ in self.edges]
        for s, t, _w, k in dag:
            top, bottom = 2 * layer[s], 2 * layer[t]
            chain = [s]
            label_layer = self._label_layer(top, bottom, self.reversed[k])
            for lay in range(top + 1, bottom):
                item = _Item(layer=lay, left=0.0, right=0.0, height=0.0)
                if lay == label_layer and self.edge_lines[k]:
                    lw, lh = self.edge_label_size[k]
                    item.label, item.label_w, item.label_h = self.edge_lines[k], lw, lh
                    item.right = st.label_offset + lw
                    item.height = lh
                self.items.append(item)
                chain.append(len(self.items) - 1)
            chain.append(t)
            self.chains[k] = chain
            rel = self.w[k] / self.wmax
            for a, b in zip(chain, chain[1:], strict=False):
                da, db = self.items[a].node < 0, self.items[b].node < 0
                base = 8.0 if (da and db) else 2.0 if (da or db) else 1.0
                seg = _Segment(
                    upper=a,
                    lower=b,
                    weight=base * (1.0 + rel),
                    chain=k,
                    lane_upper=self.reversed[k] and a == chain[0],
                    lane_lower=self.reversed[k] and b == chain[-1],
                )
                self.segments.append(seg)
                sid = len(self.segments) - 1
                self.items[a].downs.append(sid)
                self.items[b].ups.append(sid)

    @staticmethod
    def _label_layer(top: int, bottom: int, back: bool) -> int:
        odd = [lay for lay in range(top + 1, bottom) if lay % 2 == 1]
        if not odd:
            return top + 1
        mid = (top + bottom) / 2
        return min(odd, key=lambda lay: (abs(lay - mid), lay if not back else -lay))

    # -- ordering -------------------------------------------------------------------------------
    def _initial_order(self, n_layers: int) -> list[list[int]]:
        layers: list[list[int]] = [[] for _ in range(n_layers)]
        seen = [False] * len(self.items)
        order_roots = sorted(range(self.n), key=lambda i: (self.items[i].layer, i))

        def visit(root: int) -> None:
            stack = [root]
            while stack:
                v = stack.pop()
                if seen[v]:
                    continue
                seen[v] = True
                layers[self.items[v].layer].append(v)
                downs = sorted(
                    self.items[v].downs,
                    key=lambda sid: (-self.w[self.segments[sid].chain], sid),
                )
                for sid in reversed(downs):
                    nxt = self.segments[sid].lower
                    if not seen[nxt]:
                        stack.append(nxt)

        for r in order_roots:
            if not self.items[r].ups:
                visit(r)
        for r in order_roots:
            visit(r)
        for i in range(len(self.items)):
            if not seen[i]:
                visit(i)
        return layers

    def _crossings(self, layers: list[list[int]], pos: list[int]) -> int:
        total = 0
        for layer in layers[:-1]:
            pairs = []
            for v in layer:
                for sid in self.items[v].downs:
                    sg = self.segments[sid]
                    pairs.append((sg.key_upper(pos), sg.key_lower(pos)))
            if len(pairs) < 2:
                continue
            pairs.sort()
            # count inversions of the lower positions with a Fenwick tree
            size = max(p for _, p in pairs) + 2
            tree = [0] * (size + 1)
            for seen, (_, p) in enumerate(pairs):
                i = p + 1
                le = 0
                while i > 0:
                    le += tree[i]
                    i -= i & -i
                total += seen - le
                i = p + 1
                while i <= size:
                    tree[i] += 1
                    i += i & -i
        return total

    def _order(self, layers: list[list[int]]) -> list[list[int]]:
        pos = [0] * len(self.items)
        for layer in layers:
            for i, v in enumerate(layer):
                pos[v] = i
        best = [list(layer) for layer in layers]
        best_c = self._crossings(layers, pos)
        for it in range(self.style.crossing_sweeps):
            if best_c == 0:
                break
            down = it % 2 == 0
            rng = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
            for li in rng:
                layer = layers[li]
                keys = []
                for v in layer:
                    sids = self.items[v].ups if down else self.items[v].downs
                    if sids:
                        segs = [self.segments[s] for s in sids]
                        sw = sum(sg.weight for sg in segs)
                        keys_nb = [
                            (sg.key_upper(pos) if down else sg.key_lower(pos)) / 2 for sg in segs
                        ]
                        bary = sum(k * sg.weight for k, sg in zip(keys_nb, segs, strict=True)) / sw
                    else:
                        bary = float(pos[v])
                    keys.append((bary, pos[v], v))
                keys.sort()
                layers[li] = [v for _, _, v in keys]
                for i, v in enumerate(layers[li]):
                    pos[v] = i
            self._transpose(layers, pos, rounds=2)
            c = self._crossings(layers, pos)
            if c < best_c:
                best_c = c
                best = [list(layer) for layer in layers]
        for layer in best:
            for i, v in enumerate(layer):
                pos[v] = i
        if best_c:
            self._transpose(best, pos)
            best_c = self._crossings(best, pos)
        self.crossing_count = best_c
        return best

    def _transpose(self, layers: list[list[int]], pos: list[int], rounds: int = 8) -> None:
        """Swap neighbours in a layer while that removes crossings (Gansner et al.'s
        transpose step), in place."""
        segs = self.segments
        ups = [sorted(segs[s].key_upper(pos) for s in it.ups) for it in self.items]
        downs = [sorted(segs[s].key_lower(pos) for s in it.downs) for it in self.items]

        def cross(u: int, v: int) -> int:
            # crossings between the edges of u and v when u is left of v
            c = 0
            for nb in (ups, downs):
                right = nb[v]
                if right:
                    for a in nb[u]:
                        c += bisect.bisect_left(right, a)
            return c

        for _ in range(rounds):
            improved = False
            for li, layer in enumerate(layers):
                for i in range(len(layer) - 1):
                    u, v = layer[i], layer[i + 1]
                    if cross(v, u) < cross(u, v):
                        layer[i], layer[i + 1] = v, u
                        pos[u], pos[v] = i + 1, i
                        improved = True
                        # neighbours in the layers above and below see the new positions
                        for lj in (li - 1, li + 1):
                            if 0 <= lj < len(layers):
                                for w in layers[lj]:
                                    it = self.items[w]
                                    ups[w] = sorted(segs[s].key_upper(pos) for s in it.ups)
                                    downs[w] = sorted(segs[s].key_lower(pos) for s in it.downs)
            if not improved:
                break

    # -- ports and side lanes ---------------------------------------------------------------
    def _assign_ports(self, layers: list[list[int]]) -> None:
        """Spread the forward edges along the bottom and top of each node, ordered by where
        their other end is, and give reversed edges and self loops lanes on the right side."""
        st = self.style
        pos = {}
        for layer in layers:
            for i, v in enumerate(layer):
                pos[v] = i
        self.side: dict[int, list[tuple[str, int]]] = {i: [] for i in range(self.n)}
        for v in range(self.n):
            w, h = self.node_size[v]
            shape = self.nodes[v].shape
            limit = 0.3 if shape in ("circle", "diamond") else 0.38
            for attr, far in (("downs", "lower"), ("ups", "upper")):
                sids = [
                    s
                    for s in getattr(self.items[v], attr)
                    if not self.reversed[self.segments[s].chain]
                ]
                sids.sort(key=lambda s, far=far: (pos[getattr(self.segments[s], far)], s))
                k = len(sids)
                span = min(2 * limit * w, (k - 1) * 12.0)
                for j, s in enumerate(sids):
                    off = -span / 2 + (span * j / (k - 1) if k > 1 else 0.0)
                    if attr == "downs":
                        self.segments[s].off_upper = off
                    else:
                        self.segments[s].off_lower = off
        # side attachments: ("up", k) a reversed edge leaving upwards from its source,
        # ("down", k) a reversed edge arriving from below at its target, ("loop", k) a self loop
        for k, e in enumerate(self.edges):
            if self.self_loops[k]:
                self.side[self.index[e.source]].append(("loop", k))
            elif self.reversed[k]:
                self.side[self.index[e.source]].append(("up", k))
                self.side[self.index[e.target]].append(("down", k))
        self.lane_x: dict[tuple[int, str, int], float] = {}
        self.attach_y: dict[tuple[int, str, int], float] = {}
        self.loop_label_pos: dict[int, tuple[float, float]] = {}
        for v in range(self.n):
            att = self.side[v]
            if not att:
                continue
            ups = [k for kind, k in att if kind == "up"]
            downs = [k for kind, k in att if kind == "down"]
            loops = [k for kind, k in att if kind == "loop"]
            # reversed edges leave/enter at lanes in the order their far end is placed
            ups.sort(key=lambda k: (pos[self.chains[k][-2]], k))
            downs.sort(key=lambda k: (pos[self.chains[k][1]], k))
            w, h = self.node_size[v]
            points = len(ups) + 2 * len(loops) + len(downs)
            need = (points - 1) * 6.0 / 0.7 if points > 1 else 0.0
            if need > h:
                h = need
                self.node_size[v] = (w, h)
                self.items[v].height = h
            span = 0.7 * h if points > 1 else 0.0
            ys = [
                (-span / 2 + span * j / (points - 1)) if points > 1 else 0.0 for j in range(points)
            ]
            j = 0
            for lane, k in enumerate(ups):
                self.attach_y[(v, "up", k)] = ys[j]
                self.lane_x[(v, "up", k)] = w / 2 + st.lane_gap * (lane + 1)
                j += 1
            for lane in range(len(loops) - 1, -1, -1):
                self.attach_y[(v, "loop_top", loops[lane])] = ys[j]
                j += 1
            for lane in range(len(loops)):
                self.attach_y[(v, "loop_bottom", loops[lane])] = ys[j]
                self.lane_x[(v, "loop", loops[lane])] = w / 2 + st.lane_gap * (lane + 1)
                j += 1
            for lane, k in enumerate(reversed(downs)):
                self.attach_y[(v, "down", k)] = ys[j]
                self.lane_x[(v, "down", k)] = w / 2 + st.lane_gap * (len(downs) - lane)
                j += 1
            channel = st.lane_gap * max(len(ups), len(downs), len(loops)) + 2.0
            right = w / 2 + channel
            if loops:
                lab_w = max(self.edge_label_size[k][0] for k in loops)
                labelled = [k for k in loops if self.edge_lines[k]]
                lab_h = sum(self.edge_label_size[k][1] + 2.0 for k in labelled) - 2.0
                y0 = -lab_h / 2
                for k in labelled:
                    self.loop_label_pos[k] = (right + st.label_offset, y0)
                    y0 += self.edge_label_size[k][1] + 2.0
                if lab_w > 0:
                    right += st.label_offset + lab_w
                self.items[v].height = max(self.items[v].height, lab_h)
            self.items[v].right = right
        for k in range(len(self.edges)):
            if self.reversed[k] and not self.self_loops[k]:
                chain = self.chains[k]
                top, bottom = chain[0], chain[-1]  # top = original target, bottom = source
                first = self._segment_between(top, chain[1])
                last = self._segment_between(chain[-2], bottom)
                self.segments[first].off_upper = self.lane_x[(top, "down", k)]
                self.segments[last].off_lower = self.lane_x[(bottom, "up", k)]

    def _segment_between(self, a: int, b: int) -> int:
        for sid in self.items[a].downs:
            if self.segments[sid].lower == b:
                return sid
        raise AssertionError("segment not found")

    # -- coordinates ------------------------------------------------------------------------------
    def _gap(self, a: int, b: int) -> float:
        da, db = self.items[a].node < 0, self.items[b].node < 0
        if da and db:
            # more room after a label, so it reads as belonging to the line on its left
            return self.style.node_gap / 2 if self.items[a].label else self.style.dummy_gap
        if da or db:
            return self.style.node_gap / 2
        return self.style.node_gap

    def _coordinates(self, layers: list[list[int]]) -> list[float]:
        x = [0.0] * len(self.items)
        seps: list[list[float]] = []
        for layer in layers:
            s = []
            cur = 0.0
            for i, v in enumerate(layer):
                if i:
                    prev = layer[i - 1]
                    d = self.items[prev].right + self._gap(prev, v) + self.items[v].left
                    s.append(d)
                    cur += d
                x[v] = cur
            seps.append(s)

        # a node's pull from each side (above, below) sums to one, split by edge weight, so a
        # step with one predecessor and two branches lines up with its predecessor and lets
        # the branches spread, as in a flowchart; dummies keep the raw weights that hold long
        # edges straight
        side_w: list[tuple[float, float]] = []
        for it in self.items:
            up = sum(self.segments[sid].weight for sid in it.ups) or 1.0
            down = sum(self.segments[sid].weight for sid in it.downs) or 1.0
            side_w.append((up, down) if it.node >= 0 else (1.0, 1.0))

        def targets(v: int, use_up: bool, use_down: bool) -> list[tuple[float, float]]:
            pts: list[tuple[float, float]] = []
            it = self.items[v]
            up_w, down_w = side_w[v]
            if use_up:
                for sid in it.ups:
                    sg = self.segments[sid]
                    pts.append((x[sg.upper] + sg.off_upper - sg.off_lower, sg.weight / up_w))
            if use_down:
                for sid in it.downs:
                    sg = self.segments[sid]
                    pts.append((x[sg.lower] + sg.off_lower - sg.off_upper, sg.weight / down_w))
            return pts or [(x[v], 1e-3)]

        n_layers = len(layers)
        sweeps = self.style.coordinate_sweeps
        for it in range(sweeps):
            both = it >= sweeps // 2
            down = it % 2 == 0
            rng = range(n_layers) if down else range(n_layers - 1, -1, -1)
            for li in rng:
                layer = layers[li]
                if not layer:
                    continue
                tg = [targets(v, down or both, (not down) or both) for v in layer]
                sol = _isotonic_l1(tg, seps[li], [x[v] for v in layer])
                for v, xv in zip(layer, sol, strict=True):
                    x[v] = xv
        return x

    # -- geometry ----------------------------------------------------------------------------------
    def run(self) -> Layout:
        st = self.style
        self._measure()
        if self.n == 0:
            return Layout({}, [], 2 * st.margin, 2 * st.margin, st)
        dag = self._break_cycles()
        layer = self._assign_layers(dag)
        self._build_items(layer, dag)
        n_layers = max(it.layer for it in self.items) + 1
        layers = self._initial_order(n_layers)
        layers = self._order(layers)
        self._assign_ports(layers)
        x = self._coordinates(layers)
        # canvas: shift so the leftmost extent sits at the margin
        minx = min(x[v] - self.items[v].left for v in range(len(self.items)))
        maxx = max(x[v] + self.items[v].right for v in range(len(self.items)))
        shift = st.margin - minx
        x = [v + shift for v in x]
        band_h = [0.0] * n_layers
        for it in self.items:
            band_h[it.layer] = max(band_h[it.layer], it.height)
        # a gap where an edge travels far sideways gets more height, so its curve stays a
        # readable diagonal instead of a flat line that merges with its neighbours
        travel = [0.0] * n_layers
        for sg in self.segments:
            li = self.items[sg.upper].layer
            dx = abs(x[sg.upper] + sg.off_upper - x[sg.lower] - sg.off_lower)
            travel[li] = max(travel[li], dx)
        gaps = [min(max(st.layer_gap, 0.12 * t), 3 * st.layer_gap) for t in travel]
        band_top = [0.0] * n_layers
        y = st.margin
        for li in range(n_layers):
            band_top[li] = y
            y += band_h[li] + (gaps[li] if li < n_layers - 1 else 0.0)
        height = y + st.margin
        width = maxx - minx + 2 * st.margin
        self.x, self.band_top, self.band_h = x, band_top, band_h

        node_boxes: dict[str, NodeBox] = {}
        for v, nd in enumerate(self.nodes):
            w, h = self.node_size[v]
            li = self.items[v].layer
            cy = band_top[li] + band_h[li] / 2
            box = Box(x[v] - w / 2, cy - h / 2, w, h)
            node_boxes[nd.id] = NodeBox(nd, box, li // 2, self.node_lines[v])
        self.boxes = [node_boxes[nd.id].box for nd in self.nodes]
        routes = [self._route(k) for k in range(len(self.edges))]
        return Layout(node_boxes, routes, _r(width), _r(height), st)

    def _edge_width(self, k: int) -> float:
        st = self.style
        w = self.w[k]
        if self.wmax <= self.wmin:
            return st.min_edge_width
        rel = (w - self.wmin) / (self.wmax - self.wmin)
        return st.min_edge_width + (st.max_edge_width - st.min_edge_width) * rel

    def _route(self, k: int) -> EdgeRoute:
        st = self.style
        e = self.edges[k]
        al = st.arrow_length
        bt, bh = self.band_top, self.band_h
        path: list[tuple[str, tuple[Point, ...]]] = []
        label_box = None

        def band_bottom(li: int) -> float:
            return bt[li] + bh[li]

        def curve(p0: Point, p1: Point) -> None:
            my = (p0[1] + p1[1]) / 2
            path.append(("C", ((p0[0], my), (p1[0], my), p1)))

        def corner(p0: Point, p1: Point, vertical_first: bool) -> None:
            # quarter turn from p0 to p1
            c = (p0[0], p1[1]) if vertical_first else (p1[0], p0[1])
            path.append(("C", (_lerp(p0, c, 0.55), _lerp(p1, c, 0.55), p1)))

        if self.self_loops[k]:
            v = self.index[e.source]
            box = self.boxes[v]
            shape = self.nodes[v].shape
            ya = box.cy + self.attach_y[(v, "loop_top", k)]
            yb = box.cy + self.attach_y[(v, "loop_bottom", k)]
            lx = box.cx + self.lane_x[(v, "loop", k)]
            xa = box.cx + _half_width_at(shape, box.w, box.h, ya - box.cy)
            xb = box.cx + _half_width_at(shape, box.w, box.h, yb - box.cy)
            r = min(5.0, (yb - ya) / 2, (lx - xa) / 2)
            path.append(("M", ((xa, ya),)))
            path.append(("L", ((lx - r, ya),)))
            corner((lx - r, ya), (lx, ya + r), vertical_first=False)
            path.append(("L", ((lx, yb - r),)))
            corner((lx, yb - r), (lx - r, yb), vertical_first=True)
            path.append(("L", ((xb + al, yb),)))
            if self.edge_lines[k]:
                dx, dy = self.loop_label_pos[k]
                lw, lh = self.edge_label_size[k]
                label_box = Box(box.cx + dx, box.cy + dy, lw, lh)
            return EdgeRoute(
                e,
                _rpath(path),
                _rp((xb, yb)),
                (-1.0, 0.0),
                _r(self._edge_width(k)),
                _rbox(label_box),
                self.edge_lines[k],
                back=True,
                self_loop=True,
            )

        chain = self.chains[k]
        for it_id in chain[1:-1]:
            it = self.items[it_id]
            if it.label:
                li = it.layer
                cy = bt[li] + bh[li] / 2
                label_box = Box(
                    self.x[it_id] + st.label_offset, cy - it.label_h / 2, it.label_w, it.label_h
                )
        if not self.reversed[k]:
            s, t = chain[0], chain[-1]
            sb, tb = self.boxes[s], self.boxes[t]
            first = self._segment_between(s, chain[1])
            last = self._segment_between(chain[-2], t)
            ox = self.segments[first].off_upper
            sx = sb.cx + ox
            sy = sb.cy + _half_height_at(self.nodes[s].shape, sb.w, sb.h, ox)
            path.append(("M", ((sx, sy),)))
            li = self.items[s].layer
            if band_bottom(li) > sy + 0.01:
                path.append(("L", ((sx, band_bottom(li)),)))
            prev = (sx, band_bottom(li))
            for it_id in chain[1:-1]:
                lay = self.items[it_id].layer
                px = self.x[it_id]
                curve(prev, (px, bt[lay]))
                path.append(("L", ((px, band_bottom(lay)),)))
                prev = (px, band_bottom(lay))
            ix = self.segments[last].off_lower
            tx = tb.cx + ix
            ty = tb.cy - _half_height_at(self.nodes[t].shape, tb.w, tb.h, ix)
            lt = self.items[t].layer
            end_y = min(bt[lt], ty - al)
            curve(prev, (tx, end_y))
            if ty - al > end_y + 0.01:
                path.append(("L", ((tx, ty - al),)))
            return EdgeRoute(
                e,
                _rpath(path),
                _rp((tx, ty)),
                (0.0, 1.0),
                _r(self._edge_width(k)),
                _rbox(label_box),
                self.edge_lines[k],
            )

        # a reversed edge: from the right side of its source (low) up to the right side of its
        # target (high), through the dummies of its chain in reverse
        top, bottom = chain[0], chain[-1]
        sb, tb = self.boxes[bottom], self.boxes[top]
        ssh, tsh = self.nodes[bottom].shape, self.nodes[top].shape
        ya = sb.cy + self.attach_y[(bottom, "up", k)]
        lx = sb.cx + self.lane_x[(bottom, "up", k)]
        xa = sb.cx + _half_width_at(ssh, sb.w, sb.h, ya - sb.cy)
        lb = self.items[bottom].layer
        r = max(0.0, min(5.0, (lx - xa) / 2, ya - bt[lb]))
        path.append(("M", ((xa, ya),)))
        path.append(("L", ((lx - r, ya),)))
        corner((lx - r, ya), (lx, ya - r), vertical_first=False)
        if ya - r > bt[lb] + 0.01:
            path.append(("L", ((lx, bt[lb]),)))
        prev = (lx, bt[lb])
        for it_id in reversed(chain[1:-1]):
            lay = self.items[it_id].layer
            px = self.x[it_id]
            curve(prev, (px, band_bottom(lay)))
            path.append(("L", ((px, bt[lay]),)))
            prev = (px, bt[lay])
        yb = tb.cy + self.attach_y[(top, "down", k)]
        lx2 = tb.cx + self.lane_x[(top, "down", k)]
        xb = tb.cx + _half_width_at(tsh, tb.w, tb.h, yb - tb.cy)
        lt = self.items[top].layer
        r2 = max(0.0, min(5.0, (lx2 - xb - al) / 2, band_bottom(lt) - yb))
        curve(prev, (lx2, band_bottom(lt)))
        if band_bottom(lt) > yb + r2 + 0.01:
            path.append(("L", ((lx2, yb + r2),)))
        corner((lx2, yb + r2), (lx2 - r2, yb), vertical_first=True)
        path.append(("L", ((xb + al, yb),)))
        return EdgeRoute(
            e,
            _rpath(path),
            _rp((xb, yb)),
            (-1.0, 0.0),
            _r(self._edge_width(k)),
            _rbox(label_box),
            self.edge_lines[k],
            back=True,
        )


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _r(v: float) -> float:
    """Round to 1/100 px so the output does not depend on the last bits of float arithmetic."""
    out = round(v, 2)
    return 0.0 if out == 0 else out


def _rp(p: Point) -> Point:
    return (_r(p[0]), _r(p[1]))


def _rpath(path: list[tuple[str, tuple[Point, ...]]]) -> tuple[tuple[str, tuple[Point, ...]], ...]:
    return tuple((cmd, tuple(_rp(p) for p in pts)) for cmd, pts in path)


def _rbox(b: Box | None) -> Box | None:
    return None if b is None else Box(_r(b.x), _r(b.y), _r(b.w), _r(b.h))


def _median_interval(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The interval of minimisers of sum(w * |x - t|) over sorted (t, w) points."""
    total = sum(w for _, w in points)
    acc = 0.0
    lo = points[-1][0]
    for v, w in points:
        acc += w
        if acc >= total / 2 - 1e-12:
            lo = v
            break
    acc = 0.0
    hi = points[0][0]
    for v, w in reversed(points):
        acc += w
        if acc >= total / 2 - 1e-12:
            hi = v
            break
    return lo, hi


def _isotonic_l1(
    targets: list[list[tuple[float, float]]], gaps: list[float], current: list[float]
) -> list[float]:
    """Positions minimising the weighted distance (L1) to each item's targets while keeping the
    order and at least ``gaps[i]`` between item i and i+1: pool-adjacent-violators on targets
    shifted by the cumulative gaps. L1 puts items exactly in line with one of their
    neighbours, so edges come out straight instead of slightly bent; where several positions
    are equally good, the one nearest the ``current`` position is kept, so a column that is
    already straight stays straight."""
    offs = [0.0]
    for g in gaps:
        offs.append(offs[-1] + g)
    # blocks: points, count, sum of current shifted positions, value
    blocks: list[tuple[list[tuple[float, float]], int, float, float]] = []

    def value(points: list[tuple[float, float]], count: int, pref_sum: float) -> float:
        lo, hi = _median_interval(points)
        return min(max(pref_sum / count, lo), hi)

    for pts, o, cur in zip(targets, offs, current, strict=True):
        shifted = sorted((t - o, w) for t, w in pts)
        blocks.append((shifted, 1, cur - o, value(shifted, 1, cur - o)))
        while len(blocks) > 1 and blocks[-2][3] > blocks[-1][3]:
            p2, c2, s2, _ = blocks.pop()
            p1, c1, s1, _ = blocks.pop()
            merged = list(heapq.merge(p1, p2))
            blocks.append((merged, c1 + c2, s1 + s2, value(merged, c1 + c2, s1 + s2)))
    out: list[float] = []
    for _, c, _, v in blocks:
        out.extend([v] * c)
    return [v + o for v, o in zip(out, offs, strict=True)]


# ---------------------------------------------------------------------------------------------
# Graphviz (only when asked for and installed)


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _layout_with_dot(nodes: list[Node], edges: list[Edge], style: Style) -> Layout:
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError(
            "engine='dot' needs Graphviz's dot program on the PATH; it is not installed, "
            "use the built-in layout (engine='builtin')"
        )
    st = style
    b = _Builder(nodes, edges, {n.id: i for i, n in enumerate(nodes)}, st)
    b._measure()
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
    plain: str, nodes: list[Node], edges: list[Edge], b: _Builder, st: Style
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
            nd, _rbox(Box(cx - w / 2 + m, graph_h - cy - h / 2 + m, w, h)), 0, b.node_lines[i]
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
            _rpath(path),
            _rp(tip),
            _rp(direction),
            _r(b._edge_width(k)),
            _rbox(label_box),
            b.edge_lines[k],
            back=p[-1][1] < p[0][1],
            self_loop=edges[k].source == edges[k].target,
        )
    routes = [routes_by_edge[k] for k in sorted(routes_by_edge)]
    width = graph_w + 2 * m
    height = graph_h + 2 * m
    return Layout(node_boxes, routes, _r(width), _r(height), st)


# ---------------------------------------------------------------------------------------------
# Rendering

_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _rgb(color: str) -> tuple[float, float, float] | None:
    m = _HEX.match(color.strip())
    if not m:
        return None
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _text_color(node: Node) -> str:
    if node.text_color:
        return node.text_color
    rgb = _rgb(node.fill)
    if rgb is None:
        return "#1a1a1a"
    lum = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    return "#ffffff" if lum < 0.5 else "#1a1a1a"


def _f(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _esc(s: str) -> str:
    return html.escape(str(s), quote=True)


def _svg_path(path: Iterable[tuple[str, tuple[Point, ...]]]) -> str:
    out = []
    for cmd, pts in path:
        out.append(cmd + " " + " ".join(f"{_f(x)} {_f(y)}" for x, y in pts))
    return " ".join(out)


def _line_baselines(box_cy: float, n: int, font_size: float, line_height: float) -> list[float]:
    lh = font_size * line_height
    top = box_cy - lh * n / 2
    return [top + lh * (i + 0.5) + 0.35 * font_size for i in range(n)]


def render_svg(layout: Layout, title: str = "", id_prefix: str | None = None) -> str:
    """SVG text of a layout: self-contained, every label and attribute escaped, the same bytes
    for the same layout. ``id_prefix`` keeps marker ids unique when several drawings share one
    HTML page (by default it is derived from the content)."""
    st = layout.style
    routes = layout.edges
    colors = sorted({r.edge.color for r in routes})
    if id_prefix is None:
        digest = hashlib.sha1(repr((layout.width, layout.height, colors)).encode()).hexdigest()
        id_prefix = "sa" + digest[:8]
    marker = {c: f"{id_prefix}-arrow{i}" for i, c in enumerate(colors)}
    out: list[str] = []
    w, h = layout.width, layout.height
    out.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(w)}" height="{_f(h)}" '
        f'viewBox="0 0 {_f(w)} {_f(h)}" font-family="{_esc(st.font_family)}">'
    )
    if title:
        out.append(f"<title>{_esc(title)}</title>")
    out.append("<defs>")
    al, aw = st.arrow_length, st.arrow_width
    for c in colors:
        out.append(
            f'<marker id="{marker[c]}" viewBox="0 0 {_f(al)} {_f(aw)}" refX="0" '
            f'refY="{_f(aw / 2)}" markerWidth="{_f(al)}" markerHeight="{_f(aw)}" '
            f'markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M 0 0 L {_f(al)} {_f(aw / 2)} L 0 {_f(aw)} z" fill="{_esc(c)}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect x="0" y="0" width="{_f(w)}" height="{_f(h)}" fill="{_esc(st.background)}"/>')
    out.append('<g class="edges" fill="none">')
    for r in routes:
        e = r.edge
        dash = ' stroke-dasharray="6 4"' if e.dashed else ""
        tip = _esc(e.tooltip or f"{e.source} → {e.target}" + (f": {e.label}" if e.label else ""))
        out.append(
            f'<g class="edge"><title>{tip}</title><path d="{_svg_path(r.path)}" '
            f'stroke="{_esc(e.color)}" stroke-width="{_f(r.width)}"{dash} '
            f'marker-end="url(#{marker[e.color]})"/></g>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for nb in layout.nodes.values():
        nd, b = nb.node, nb.box
        out.append(f'<g class="node"><title>{_esc(nd.tooltip or nd.text)}</title>')
        paint = f'fill="{_esc(nd.fill)}" stroke="{_esc(nd.stroke)}" stroke-width="1"'
        if nd.shape == "diamond":
            pts = [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)]
            out.append(
                '<polygon points="' + " ".join(f"{_f(x)},{_f(y)}" for x, y in pts) + f'" {paint}/>'
            )
        elif nd.shape == "circle":
            out.append(
                f'<ellipse cx="{_f(b.cx)}" cy="{_f(b.cy)}" rx="{_f(b.w / 2)}" '
                f'ry="{_f(b.h / 2)}" {paint}/>'
            )
        else:
            rx = b.h / 2 if nd.shape == "terminator" else 4.0
            out.append(
                f'<rect x="{_f(b.x)}" y="{_f(b.y)}" width="{_f(b.w)}" height="{_f(b.h)}" '
                f'rx="{_f(rx)}" {paint}/>'
            )
        ys = _line_baselines(b.cy, len(nb.lines), st.font_size, st.line_height)
        tspans = "".join(
            f'<tspan x="{_f(b.cx)}" y="{_f(yy)}">{_esc(line)}</tspan>'
            for line, yy in zip(nb.lines, ys, strict=True)
        )
        out.append(
            f'<text text-anchor="middle" font-size="{_f(st.font_size)}" '
            f'fill="{_esc(_text_color(nd))}">{tspans}</text></g>'
        )
    out.append("</g>")
    out.append(f'<g class="edge-labels" font-size="{_f(st.edge_font_size)}" fill="#333333">')
    for r in routes:
        if r.label_box is None:
            continue
        lb = r.label_box
        ys = _line_baselines(lb.cy, len(r.label_lines), st.edge_font_size, st.line_height)
        tspans = "".join(
            f'<tspan x="{_f(lb.x + 1)}" y="{_f(yy)}">{_esc(line)}</tspan>'
            for line, yy in zip(r.label_lines, ys, strict=True)
        )
        out.append(f"<text>{tspans}</text>")
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def render_png(layout: Layout, scale: float = 2.0) -> bytes:
    """PNG bytes of the same layout drawn with matplotlib (DejaVu Sans), ``scale`` pixels per
    layout pixel. Bytes are stable: no software or time stamp is written into the file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyBboxPatch, PathPatch, Polygon
    from matplotlib.path import Path as MplPath

    st = layout.style
    w, h = max(layout.width, 1.0), max(layout.height, 1.0)
    fig = Figure(figsize=(w / 72, h / 72), dpi=72 * scale)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor(st.background)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    family = "DejaVu Sans"
    codes_of = {"M": [MplPath.MOVETO], "L": [MplPath.LINETO], "C": [MplPath.CURVE4] * 3}
    for r in layout.edges:
        e = r.edge
        verts: list[Point] = []
        codes: list[int] = []
        for cmd, pts in r.path:
            verts.extend(pts)
            codes.extend(codes_of[cmd])
        color = e.color if _rgb(e.color) else "#6b6b6b"
        ax.add_patch(
            PathPatch(
                MplPath(verts, codes),
                fill=False,
                edgecolor=color,
                linewidth=r.width,
                linestyle=(0, (6 / max(r.width, 1), 4 / max(r.width, 1))) if e.dashed else "-",
                capstyle="butt",
                joinstyle="round",
                zorder=1,
            )
        )
        tx, ty = r.tip
        dx, dy = r.direction
        bx, by = tx - dx * st.arrow_length, ty - dy * st.arrow_length
        px, py = -dy * st.arrow_width / 2, dx * st.arrow_width / 2
        ax.add_patch(
            Polygon(
                [(tx, ty), (bx + px, by + py), (bx - px, by - py)],
                closed=True,
                facecolor=color,
                edgecolor="none",
                zorder=2,
            )
        )
    for nb in layout.nodes.values():
        nd, b = nb.node, nb.box
        fill = nd.fill if _rgb(nd.fill) else "#ffffff"
        stroke = nd.stroke if _rgb(nd.stroke) else "#4d4d4d"
        kw = {"facecolor": fill, "edgecolor": stroke, "linewidth": 1.0, "zorder": 3}
        if nd.shape == "diamond":
            patch = Polygon(
                [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)], closed=True, **kw
            )
        elif nd.shape == "circle":
            patch = Ellipse((b.cx, b.cy), b.w, b.h, **kw)
        else:
            rad = b.h / 2 if nd.shape == "terminator" else 4.0
            patch = FancyBboxPatch(
                (b.x + rad, b.y + rad),
                max(b.w - 2 * rad, 0.0),
                max(b.h - 2 * rad, 0.0),
                boxstyle=f"round,pad={rad}",
                **kw,
            )
        ax.add_patch(patch)
        tc = _text_color(nd)
        tc = tc if _rgb(tc) else "#1a1a1a"
        lh = st.font_size * st.line_height
        top = b.cy - lh * len(nb.lines) / 2
        for i, line in enumerate(nb.lines):
            ax.text(
                b.cx,
                top + lh * (i + 0.5),
                line,
                ha="center",
                va="center_baseline",
                fontsize=st.font_size,
                family=family,
                color=tc,
                zorder=4,
            )
    for r in layout.edges:
        if r.label_box is None:
            continue
        lb = r.label_box
        lh = st.edge_font_size * st.line_height
        top = lb.cy - lh * len(r.label_lines) / 2
        for i, line in enumerate(r.label_lines):
            ax.text(
                lb.x + 1,
                top + lh * (i + 0.5),
                line,
                ha="left",
                va="center_baseline",
                fontsize=st.edge_font_size,
                family=family,
                color="#333333",
                zorder=5,
            )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72 * scale, metadata={"Software": None})
    return buf.getvalue()


def draw(
    nodes: Sequence[Node],
    edges: Sequence[Edge],
    path: str | Path | None = None,
    fmt: Literal["svg", "png"] = "svg",
    style: Style | None = None,
    engine: Literal["builtin", "dot"] = "builtin",
    title: str = "",
) -> str:
    """Lay out and render a graph; write it to ``path`` as SVG or PNG if given, and return the
    SVG text either way."""
    lay = layout_graph(nodes, edges, style=style, engine=engine)
    svg = render_svg(lay, title=title)
    if path is not None:
        p = Path(path)
        if fmt == "svg":
            p.write_text(svg, encoding="utf-8")
        elif fmt == "png":
            p.write_bytes(render_png(lay))
        else:
            raise ValueError(f"unknown format {fmt!r}; use 'svg' or 'png'")
    return svg
