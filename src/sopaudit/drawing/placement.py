"""Placement: where each item sits across its layer, and the height of each layer.

Forward edges spread along the bottom and top of a node (ports); reversed edges and self loops
get lanes on its right side. Then, per layer, a weighted least-squares (L1) fit to the
neighbours' ports under minimum separation constraints (pool-adjacent-violators), in
alternating sweeps; boxes never overlap. Last, the layers become horizontal bands, with more
height where an edge travels far sideways.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from sopaudit.drawing.model import Box
from sopaudit.drawing.state import Graph, segment_between


def assign_ports(g: Graph, layers: list[list[int]]) -> None:
    """Spread the forward edges along the bottom and top of each node, ordered by where
    their other end is, and give reversed edges and self loops lanes on the right side."""
    pos = {}
    for layer in layers:
        for i, v in enumerate(layer):
            pos[v] = i
    _spread_ports(g, pos)
    _side_lanes(g, pos)


def _spread_ports(g: Graph, pos: dict[int, int]) -> None:
    """Offsets of the forward segments along the bottom and top of each node, a fixed step
    apart within the middle of the node, in the order of their other ends."""
    for v in range(g.n):
        w = g.node_size[v][0]
        shape = g.nodes[v].shape
        limit = 0.3 if shape in ("circle", "diamond") else 0.38
        for attr, far in (("downs", "lower"), ("ups", "upper")):
            sids = [
                s
                for s in getattr(g.items[v], attr)
                if not g.reversed[g.segments[s].chain]
            ]
            sids.sort(key=lambda s, far=far: (pos[getattr(g.segments[s], far)], s))
            k = len(sids)
            span = min(2 * limit * w, (k - 1) * 12.0)
            for j, s in enumerate(sids):
                off = -span / 2 + (span * j / (k - 1) if k > 1 else 0.0)
                if attr == "downs":
                    g.segments[s].off_upper = off
                else:
                    g.segments[s].off_lower = off


def _side_lanes(g: Graph, pos: dict[int, int]) -> None:
    """Lanes on the right of each node for its reversed edges and self loops: where each
    attaches, how far right its lane runs, and the room the lanes and loop labels take."""
    st = g.style
    side: dict[int, list[tuple[str, int]]] = {i: [] for i in range(g.n)}
    # side attachments: ("up", k) a reversed edge leaving upwards from its source,
    # ("down", k) a reversed edge arriving from below at its target, ("loop", k) a self loop
    for k, e in enumerate(g.edges):
        if g.self_loops[k]:
            side[g.index[e.source]].append(("loop", k))
        elif g.reversed[k]:
            side[g.index[e.source]].append(("up", k))
            side[g.index[e.target]].append(("down", k))
    for v in range(g.n):
        att = side[v]
        if not att:
            continue
        ups = [k for kind, k in att if kind == "up"]
        downs = [k for kind, k in att if kind == "down"]
        loops = [k for kind, k in att if kind == "loop"]
        # reversed edges leave/enter at lanes in the order their far end is placed
        ups.sort(key=lambda k: (pos[g.chains[k][-2]], k))
        downs.sort(key=lambda k: (pos[g.chains[k][1]], k))
        w, h = g.node_size[v]
        points = len(ups) + 2 * len(loops) + len(downs)
        need = (points - 1) * 6.0 / 0.7 if points > 1 else 0.0
        if need > h:
            h = need
            g.node_size[v] = (w, h)
            g.items[v].height = h
        span = 0.7 * h if points > 1 else 0.0
        ys = [
            (-span / 2 + span * j / (points - 1)) if points > 1 else 0.0 for j in range(points)
        ]
        j = 0
        for lane, k in enumerate(ups):
            g.attach_y[(v, "up", k)] = ys[j]
            g.lane_x[(v, "up", k)] = w / 2 + st.lane_gap * (lane + 1)
            j += 1
        for lane in range(len(loops) - 1, -1, -1):
            g.attach_y[(v, "loop_top", loops[lane])] = ys[j]
            j += 1
        for lane in range(len(loops)):
            g.attach_y[(v, "loop_bottom", loops[lane])] = ys[j]
            g.lane_x[(v, "loop", loops[lane])] = w / 2 + st.lane_gap * (lane + 1)
            j += 1
        for lane, k in enumerate(reversed(downs)):
            g.attach_y[(v, "down", k)] = ys[j]
            g.lane_x[(v, "down", k)] = w / 2 + st.lane_gap * (len(downs) - lane)
            j += 1
        channel = st.lane_gap * max(len(ups), len(downs), len(loops)) + 2.0
        right = w / 2 + channel
        if loops:
            lab_w = max(g.edge_label_size[k][0] for k in loops)
            labelled = [k for k in loops if g.edge_lines[k]]
            lab_h = sum(g.edge_label_size[k][1] + 2.0 for k in labelled) - 2.0
            y0 = -lab_h / 2
            for k in labelled:
                g.loop_label_pos[k] = (right + st.label_offset, y0)
                y0 += g.edge_label_size[k][1] + 2.0
            if lab_w > 0:
                right += st.label_offset + lab_w
            g.items[v].height = max(g.items[v].height, lab_h)
        g.items[v].right = right
    for k in range(len(g.edges)):
        if g.reversed[k] and not g.self_loops[k]:
            chain = g.chains[k]
            top, bottom = chain[0], chain[-1]  # top = original target, bottom = source
            first = segment_between(g, top, chain[1])
            last = segment_between(g, chain[-2], bottom)
            g.segments[first].off_upper = g.lane_x[(top, "down", k)]
            g.segments[last].off_lower = g.lane_x[(bottom, "up", k)]


def _gap(g: Graph, a: int, b: int) -> float:
    """The least room between neighbours ``a`` and ``b`` of a layer."""
    da, db = g.items[a].node < 0, g.items[b].node < 0
    if da and db:
        # more room after a label, so it reads as belonging to the line on its left
        return g.style.node_gap / 2 if g.items[a].label else g.style.dummy_gap
    if da or db:
        return g.style.node_gap / 2
    return g.style.node_gap


def coordinates(g: Graph, layers: list[list[int]]) -> list[float]:
    """The x of each item's anchor (before the shift onto the canvas)."""
    x = [0.0] * len(g.items)
    seps: list[list[float]] = []
    for layer in layers:
        s = []
        cur = 0.0
        for i, v in enumerate(layer):
            if i:
                prev = layer[i - 1]
                d = g.items[prev].right + _gap(g, prev, v) + g.items[v].left
                s.append(d)
                cur += d
            x[v] = cur
        seps.append(s)

    # a node's pull from each side (above, below) sums to one, split by edge weight, so a
    # step with one predecessor and two branches lines up with its predecessor and lets
    # the branches spread, as in a flowchart; dummies keep the raw weights that hold long
    # edges straight
    side_w: list[tuple[float, float]] = []
    for it in g.items:
        up = sum(g.segments[sid].weight for sid in it.ups) or 1.0
        down = sum(g.segments[sid].weight for sid in it.downs) or 1.0
        side_w.append((up, down) if it.node >= 0 else (1.0, 1.0))

    def targets(v: int, use_up: bool, use_down: bool) -> list[tuple[float, float]]:
        pts: list[tuple[float, float]] = []
        it = g.items[v]
        up_w, down_w = side_w[v]
        if use_up:
            for sid in it.ups:
                sg = g.segments[sid]
                pts.append((x[sg.upper] + sg.off_upper - sg.off_lower, sg.weight / up_w))
        if use_down:
            for sid in it.downs:
                sg = g.segments[sid]
                pts.append((x[sg.lower] + sg.off_lower - sg.off_upper, sg.weight / down_w))
        return pts or [(x[v], 1e-3)]

    n_layers = len(layers)
    sweeps = g.style.coordinate_sweeps
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


@dataclass
class Frame:
    """Where the layered graph sits on the canvas."""

    x: list[float]  # anchor x of each item
    band_top: list[float]  # top of each layer's band
    band_h: list[float]  # height of each layer's band
    boxes: list[Box]  # box of each node
    width: float
    height: float


def frame(g: Graph, x: list[float], n_layers: int) -> Frame:
    """Shift the items so the leftmost extent sits at the margin, and stack the layers."""
    st = g.style
    minx = min(x[v] - g.items[v].left for v in range(len(g.items)))
    maxx = max(x[v] + g.items[v].right for v in range(len(g.items)))
    shift = st.margin - minx
    x = [v + shift for v in x]
    band_h = [0.0] * n_layers
    for it in g.items:
        band_h[it.layer] = max(band_h[it.layer], it.height)
    # a gap where an edge travels far sideways gets more height, so its curve stays a
    # readable diagonal instead of a flat line that merges with its neighbours
    travel = [0.0] * n_layers
    for sg in g.segments:
        li = g.items[sg.upper].layer
        dx = abs(x[sg.upper] + sg.off_upper - x[sg.lower] - sg.off_lower)
        travel[li] = max(travel[li], dx)
    gaps = [min(max(st.layer_gap, 0.12 * t), 3 * st.layer_gap) for t in travel]
    band_top = [0.0] * n_layers
    y = st.margin
    for li in range(n_layers):
        band_top[li] = y
        y += band_h[li] + (gaps[li] if li < n_layers - 1 else 0.0)
    boxes = []
    for v in range(g.n):
        w, h = g.node_size[v]
        li = g.items[v].layer
        cy = band_top[li] + band_h[li] / 2
        boxes.append(Box(x[v] - w / 2, cy - h / 2, w, h))
    return Frame(x, band_top, band_h, boxes, maxx - minx + 2 * st.margin, y + st.margin)
