"""The layout pipeline and the one-call :func:`draw`.

A deterministic Sugiyama-style layout, top to bottom, in stages that each read and fill one
:class:`~sopaudit.drawing.state.Graph`: labels are measured and wrapped (state.py), cycles
broken and layers assigned (layering.py), the order within layers chosen to reduce crossings
(ordering.py), items placed across their layers (placement.py) and edges routed (routing.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from sopaudit.drawing import layering, ordering, placement
from sopaudit.drawing.dot import layout_with_dot
from sopaudit.drawing.model import SHAPES, Edge, Layout, Node, NodeBox, Style, round_px
from sopaudit.drawing.png import render_png
from sopaudit.drawing.routing import route
from sopaudit.drawing.state import prepare
from sopaudit.drawing.svg import render_svg


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
        return layout_with_dot(nodes, edges, style)
    if engine != "builtin":
        raise ValueError(f"unknown layout engine {engine!r}; use 'builtin' or 'dot'")
    return _builtin(nodes, edges, index, style)


def _builtin(nodes: list[Node], edges: list[Edge], index: dict[str, int], style: Style) -> Layout:
    g = prepare(nodes, edges, index, style)
    if g.n == 0:
        return Layout({}, [], 2 * style.margin, 2 * style.margin, style)
    dag = layering.break_cycles(g)
    layering.build_items(g, layering.assign_layers(g, dag), dag)
    n_layers = max(it.layer for it in g.items) + 1
    layers = ordering.order(g, ordering.initial_order(g, n_layers))
    placement.assign_ports(g, layers)
    fr = placement.frame(g, placement.coordinates(g, layers), n_layers)
    node_boxes = {
        nd.id: NodeBox(nd, fr.boxes[v], g.items[v].layer // 2, g.node_lines[v])
        for v, nd in enumerate(nodes)
    }
    routes = [route(g, fr, k) for k in range(len(edges))]
    return Layout(node_boxes, routes, round_px(fr.width), round_px(fr.height), style)


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
