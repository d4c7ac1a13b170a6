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


def route(g: Graph, fr: Frame, k: int) -> EdgeRoute:
    """The drawn path of edge ``k``, rounded to 1/100 px."""
    st = g.style
    e = g.edges[k]
    al = st.arrow_length
    bt, bh = fr.band_top, fr.band_h
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

    if g.self_loops[k]:
        v = g.index[e.source]
        box = fr.boxes[v]
        shape = g.nodes[v].shape
        ya = box.cy + g.attach_y[(v, "loop_top", k)]
        yb = box.cy + g.attach_y[(v, "loop_bottom", k)]
        lx = box.cx + g.lane_x[(v, "loop", k)]
        xa = box.cx + half_width_at(shape, box.w, box.h, ya - box.cy)
        xb = box.cx + half_width_at(shape, box.w, box.h, yb - box.cy)
        r = min(5.0, (yb - ya) / 2, (lx - xa) / 2)
        path.append(("M", ((xa, ya),)))
        path.append(("L", ((lx - r, ya),)))
        corner((lx - r, ya), (lx, ya + r), vertical_first=False)
        path.append(("L", ((lx, yb - r),)))
        corner((lx, yb - r), (lx - r, yb), vertical_first=True)
        path.append(("L", ((xb + al, yb),)))
        if g.edge_lines[k]:
            dx, dy = g.loop_label_pos[k]
            lw, lh = g.edge_label_size[k]
            label_box = Box(box.cx + dx, box.cy + dy, lw, lh)
        return EdgeRoute(
            e,
            round_path(path),
            round_point((xb, yb)),
            (-1.0, 0.0),
            round_px(edge_width(g, k)),
            round_box(label_box),
            g.edge_lines[k],
            back=True,
            self_loop=True,
        )

    chain = g.chains[k]
    for it_id in chain[1:-1]:
        it = g.items[it_id]
        if it.label:
            li = it.layer
            cy = bt[li] + bh[li] / 2
            label_box = Box(
                fr.x[it_id] + st.label_offset, cy - it.label_h / 2, it.label_w, it.label_h
            )
    if not g.reversed[k]:
        s, t = chain[0], chain[-1]
        sb, tb = fr.boxes[s], fr.boxes[t]
        first = segment_between(g, s, chain[1])
        last = segment_between(g, chain[-2], t)
        ox = g.segments[first].off_upper
        sx = sb.cx + ox
        sy = sb.cy + half_height_at(g.nodes[s].shape, sb.w, sb.h, ox)
        path.append(("M", ((sx, sy),)))
        li = g.items[s].layer
        if band_bottom(li) > sy + 0.01:
            path.append(("L", ((sx, band_bottom(li)),)))
        prev = (sx, band_bottom(li))
        for it_id in chain[1:-1]:
            lay = g.items[it_id].layer
            px = fr.x[it_id]
            curve(prev, (px, bt[lay]))
            path.append(("L", ((px, band_bottom(lay)),)))
            prev = (px, band_bottom(lay))
        ix = g.segments[last].off_lower
        tx = tb.cx + ix
        ty = tb.cy - half_height_at(g.nodes[t].shape, tb.w, tb.h, ix)
        lt = g.items[t].layer
        end_y = min(bt[lt], ty - al)
        curve(prev, (tx, end_y))
        if ty - al > end_y + 0.01:
            path.append(("L", ((tx, ty - al),)))
        return EdgeRoute(
            e,
            round_path(path),
            round_point((tx, ty)),
            (0.0, 1.0),
            round_px(edge_width(g, k)),
            round_box(label_box),
            g.edge_lines[k],
        )

    # a reversed edge: from the right side of its source (low) up to the right side of its
    # target (high), through the dummies of its chain in reverse
    top, bottom = chain[0], chain[-1]
    sb, tb = fr.boxes[bottom], fr.boxes[top]
    ssh, tsh = g.nodes[bottom].shape, g.nodes[top].shape
    ya = sb.cy + g.attach_y[(bottom, "up", k)]
    lx = sb.cx + g.lane_x[(bottom, "up", k)]
    xa = sb.cx + half_width_at(ssh, sb.w, sb.h, ya - sb.cy)
    lb = g.items[bottom].layer
    r = max(0.0, min(5.0, (lx - xa) / 2, ya - bt[lb]))
    path.append(("M", ((xa, ya),)))
    path.append(("L", ((lx - r, ya),)))
    corner((lx - r, ya), (lx, ya - r), vertical_first=False)
    if ya - r > bt[lb] + 0.01:
        path.append(("L", ((lx, bt[lb]),)))
    prev = (lx, bt[lb])
    for it_id in reversed(chain[1:-1]):
        lay = g.items[it_id].layer
        px = fr.x[it_id]
        curve(prev, (px, band_bottom(lay)))
        path.append(("L", ((px, bt[lay]),)))
        prev = (px, bt[lay])
    yb = tb.cy + g.attach_y[(top, "down", k)]
    lx2 = tb.cx + g.lane_x[(top, "down", k)]
    xb = tb.cx + half_width_at(tsh, tb.w, tb.h, yb - tb.cy)
    lt = g.items[top].layer
    r2 = max(0.0, min(5.0, (lx2 - xb - al) / 2, band_bottom(lt) - yb))
    curve(prev, (lx2, band_bottom(lt)))
    if band_bottom(lt) > yb + r2 + 0.01:
        path.append(("L", ((lx2, yb + r2),)))
    corner((lx2, yb + r2), (lx2 - r2, yb), vertical_first=True)
    path.append(("L", ((xb + al, yb),)))
    return EdgeRoute(
        e,
        round_path(path),
        round_point((xb, yb)),
        (-1.0, 0.0),
        round_px(edge_width(g, k)),
        round_box(label_box),
        g.edge_lines[k],
        back=True,
    )


def _lerp(a: Point, b: Point, t: float) -> Point:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)

