"""Edge routing: straight vertical runs inside the layers, S-curves between them. A forward
edge leaves the bottom of its source and enters the top of its target; a reversed edge leaves
the right side of its source, climbs through its dummies and enters the right side of its
target; a self loop is a lane on the right of its node."""

from __future__ import annotations

from sopaudit.drawing.model import (
    Box,
    EdgeRoute,
    Point,
    half_height_at,
    half_width_at,
    round_box,
    round_path,
    round_point,
    round_px,
)
from sopaudit.drawing.placement import Frame
from sopaudit.drawing.state import Graph, edge_width, segment_between

# an SVG-like path: ("M" | "L", (point,)) or ("C", (control, control, point))
Commands = list[tuple[str, tuple[Point, ...]]]


def route(g: Graph, fr: Frame, k: int) -> EdgeRoute:
    """The drawn path of edge ``k``, rounded to 1/100 px."""
    if g.self_loops[k]:
        path, tip, label_box = _self_loop(g, fr, k)
        return _route(g, k, path, tip, (-1.0, 0.0), label_box, back=True, self_loop=True)
    label_box = _chain_label_box(g, fr, k)
    if not g.reversed[k]:
        path, tip = _forward(g, fr, k)
        return _route(g, k, path, tip, (0.0, 1.0), label_box)
    path, tip = _backward(g, fr, k)
    return _route(g, k, path, tip, (-1.0, 0.0), label_box, back=True)


def _route(
    g: Graph,
    k: int,
    path: Commands,
    tip: Point,
    direction: Point,
    label_box: Box | None,
    back: bool = False,
    self_loop: bool = False,
) -> EdgeRoute:
    return EdgeRoute(
        g.edges[k],
        round_path(path),
        round_point(tip),
        direction,
        round_px(edge_width(g, k)),
        round_box(label_box),
        g.edge_lines[k],
        back=back,
        self_loop=self_loop,
    )


def _self_loop(g: Graph, fr: Frame, k: int) -> tuple[Commands, Point, Box | None]:
    """Out of the node's right side, round its lane and back in just below."""
    st = g.style
    v = g.index[g.edges[k].source]
    box = fr.boxes[v]
    shape = g.nodes[v].shape
    ya = box.cy + g.attach_y[(v, "loop_top", k)]
    yb = box.cy + g.attach_y[(v, "loop_bottom", k)]
    lx = box.cx + g.lane_x[(v, "loop", k)]
    xa = box.cx + half_width_at(shape, box.w, box.h, ya - box.cy)
    xb = box.cx + half_width_at(shape, box.w, box.h, yb - box.cy)
    r = min(5.0, (yb - ya) / 2, (lx - xa) / 2)
    path: Commands = [("M", ((xa, ya),)), ("L", ((lx - r, ya),))]
    _corner(path, (lx - r, ya), (lx, ya + r), vertical_first=False)
    path.append(("L", ((lx, yb - r),)))
    _corner(path, (lx, yb - r), (lx - r, yb), vertical_first=True)
    path.append(("L", ((xb + st.arrow_length, yb),)))
    label_box = None
    if g.edge_lines[k]:
        dx, dy = g.loop_label_pos[k]
        lw, lh = g.edge_label_size[k]
        label_box = Box(box.cx + dx, box.cy + dy, lw, lh)
    return path, (xb, yb), label_box


def _chain_label_box(g: Graph, fr: Frame, k: int) -> Box | None:
    """The label's box, right of the dummy that carries it."""
    label_box = None
    for it_id in g.chains[k][1:-1]:
        it = g.items[it_id]
        if it.label:
            li = it.layer
            cy = fr.band_top[li] + fr.band_h[li] / 2
            label_box = Box(
                fr.x[it_id] + g.style.label_offset, cy - it.label_h / 2, it.label_w, it.label_h
            )
    return label_box


def _forward(g: Graph, fr: Frame, k: int) -> tuple[Commands, Point]:
    """From a port at the bottom of the source down through the dummies to a port at the top
    of the target."""
    bt = fr.band_top
    chain = g.chains[k]
    s, t = chain[0], chain[-1]
    sb, tb = fr.boxes[s], fr.boxes[t]
    first = segment_between(g, s, chain[1])
    last = segment_between(g, chain[-2], t)
    ox = g.segments[first].off_upper
    sx = sb.cx + ox
    sy = sb.cy + half_height_at(g.nodes[s].shape, sb.w, sb.h, ox)
    path: Commands = [("M", ((sx, sy),))]
    li = g.items[s].layer
    if _band_bottom(fr, li) > sy + 0.01:
        path.append(("L", ((sx, _band_bottom(fr, li)),)))
    prev = (sx, _band_bottom(fr, li))
    for it_id in chain[1:-1]:
        lay = g.items[it_id].layer
        px = fr.x[it_id]
        _curve(path, prev, (px, bt[lay]))
        path.append(("L", ((px, _band_bottom(fr, lay)),)))
        prev = (px, _band_bottom(fr, lay))
    ix = g.segments[last].off_lower
    tx = tb.cx + ix
    ty = tb.cy - half_height_at(g.nodes[t].shape, tb.w, tb.h, ix)
    al = g.style.arrow_length
    end_y = min(bt[g.items[t].layer], ty - al)
    _curve(path, prev, (tx, end_y))
    if ty - al > end_y + 0.01:
        path.append(("L", ((tx, ty - al),)))
    return path, (tx, ty)


def _backward(g: Graph, fr: Frame, k: int) -> tuple[Commands, Point]:
    """A reversed edge: from the right side of its source (low) up to the right side of its
    target (high), through the dummies of its chain in reverse."""
    bt = fr.band_top
    al = g.style.arrow_length
    chain = g.chains[k]
    top, bottom = chain[0], chain[-1]
    sb, tb = fr.boxes[bottom], fr.boxes[top]
    ssh, tsh = g.nodes[bottom].shape, g.nodes[top].shape
    ya = sb.cy + g.attach_y[(bottom, "up", k)]
    lx = sb.cx + g.lane_x[(bottom, "up", k)]
    xa = sb.cx + half_width_at(ssh, sb.w, sb.h, ya - sb.cy)
    lb = g.items[bottom].layer
    r = max(0.0, min(5.0, (lx - xa) / 2, ya - bt[lb]))
    path: Commands = [("M", ((xa, ya),)), ("L", ((lx - r, ya),))]
    _corner(path, (lx - r, ya), (lx, ya - r), vertical_first=False)
    if ya - r > bt[lb] + 0.01:
        path.append(("L", ((lx, bt[lb]),)))
    prev = (lx, bt[lb])
    for it_id in reversed(chain[1:-1]):
        lay = g.items[it_id].layer
        px = fr.x[it_id]
        _curve(path, prev, (px, _band_bottom(fr, lay)))
        path.append(("L", ((px, bt[lay]),)))
        prev = (px, bt[lay])
    yb = tb.cy + g.attach_y[(top, "down", k)]
    lx2 = tb.cx + g.lane_x[(top, "down", k)]
    xb = tb.cx + half_width_at(tsh, tb.w, tb.h, yb - tb.cy)
    lt = g.items[top].layer
    r2 = max(0.0, min(5.0, (lx2 - xb - al) / 2, _band_bottom(fr, lt) - yb))
    _curve(path, prev, (lx2, _band_bottom(fr, lt)))
    if _band_bottom(fr, lt) > yb + r2 + 0.01:
        path.append(("L", ((lx2, yb + r2),)))
    _corner(path, (lx2, yb + r2), (lx2 - r2, yb), vertical_first=True)
    path.append(("L", ((xb + al, yb),)))
    return path, (xb, yb)


def _band_bottom(fr: Frame, li: int) -> float:
    return fr.band_top[li] + fr.band_h[li]


def _curve(path: Commands, p0: Point, p1: Point) -> None:
    """An S-curve from p0 down (or up) to p1, vertical at both ends."""
    my = (p0[1] + p1[1]) / 2
    path.append(("C", ((p0[0], my), (p1[0], my), p1)))


def _corner(path: Commands, p0: Point, p1: Point, vertical_first: bool) -> None:
    """A quarter turn from p0 to p1."""
    c = (p0[0], p1[1]) if vertical_first else (p1[0], p0[1])
    path.append(("C", (_lerp(p0, c, 0.55), _lerp(p1, c, 0.55), p1)))


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
