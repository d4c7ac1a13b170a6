"""Layering: which layer each node goes in, and the layered graph built from it.

1. cycle breaking: a depth-first search (heaviest edges first, then input order) and sifting
   give a linear order of the nodes; edges against it are reversed for layering (they keep
   their direction in the drawing);
2. layers: longest path, then nodes slide to shorten heavy edges; ``Node.rank`` pins a node to
   the first or last layer (start and end of a process);
3. items: the layers are doubled so that every edge passes through at least one dummy; long
   edges get one dummy per layer, and an edge label is carried by one of its dummies, so labels
   take part in the layout and never overlap boxes or each other.
"""

from __future__ import annotations

import heapq
import math

from sopaudit.drawing.state import Graph, Item, Segment

Dag = list[tuple[int, int, float, int]]  # (top node, bottom node, weight, edge id)


def break_cycles(g: Graph) -> Dag:
    """Edges as (top, bottom, weight, edge id) of an acyclic graph.

    A depth-first search (heaviest edges first, then input order) gives a first linear
    order of the nodes (reverse post-order); then each node in turn moves to the place in
    that order where the weight of the heavy edges pointing backwards is smallest
    (sifting), so a heavy edge is not drawn backwards just because the search met a lighter
    one first. With ``Node.order`` hints, the hints give the order instead.
    Edges that point backwards in the final order are reversed for layering and marked in
    ``g.reversed``."""
    order = _search_order(g)
    hinted = any(nd.order is not None for nd in g.nodes)
    if hinted:
        # nodes without a hint follow the node before them in the search order
        key: dict[int, tuple[float, int]] = {}
        last_hint = -math.inf
        for i, v in enumerate(order):
            h = g.nodes[v].order
            last_hint = float(h) if h is not None else last_hint
            key[v] = (last_hint, i)
        order = sorted(order, key=key.__getitem__)
    firsts = [v for v in order if g.nodes[v].rank == "first"]
    lasts = [v for v in order if g.nodes[v].rank == "last"]
    middle = [v for v in order if g.nodes[v].rank not in ("first", "last")]
    if not hinted:
        middle = _sift(g, middle, set(firsts) | set(lasts))
    order = firsts + middle + lasts
    pos = {v: i for i, v in enumerate(order)}
    dag = []
    for k, e in enumerate(g.edges):
        if g.self_loops[k]:
            continue
        s, t = g.index[e.source], g.index[e.target]
        if pos[s] > pos[t]:
            g.reversed[k] = True
            s, t = t, s
        dag.append((s, t, max(g.w[k], 1e-9), k))
    return dag


def _search_order(g: Graph) -> list[int]:
    """Reverse post-order of a depth-first search from the nodes without predecessors,
    heaviest edges first, then input order."""
    n = g.n
    out: list[list[int]] = [[] for _ in range(n)]
    has_in = [False] * n
    for k, e in enumerate(g.edges):
        if g.self_loops[k]:
            continue
        s, t = g.index[e.source], g.index[e.target]
        out[s].append(k)
        has_in[t] = True
    for s in range(n):
        out[s].sort(key=lambda k: (-g.w[k], k))
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
                t = g.index[g.edges[out[v][i]].target]
                if state[t] == 0:
                    state[t] = 1
                    stack.append((t, 0))
            else:
                state[v] = 2
                post.append(v)
                stack.pop()
    return post[::-1]


def _sift(g: Graph, order: list[int], pinned: set[int]) -> list[int]:
    """Move each node to the position of ``order`` that minimises the weight of backward
    heavy edges (at least a tenth of the heaviest edge); ties keep the node where it is.
    Light edges are left to the search order: counting them too lets a cluster of rare
    nodes slip in between two busy ones and stretch the main flow. A few passes."""
    heavy = 0.1 * g.wmax
    w_out: list[dict[int, float]] = [{} for _ in range(g.n)]
    w_in: list[dict[int, float]] = [{} for _ in range(g.n)]
    for k, e in enumerate(g.edges):
        if g.self_loops[k]:
            continue
        s, t = g.index[e.source], g.index[e.target]
        w = max(g.w[k], 1e-9)
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


def assign_layers(g: Graph, dag: Dag) -> list[int]:
    """The layer of each node (0 at the top): every edge of ``dag`` goes at least one layer
    down."""
    n = g.n
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
    pinned = [nd.rank in ("first", "last") for nd in g.nodes]
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

    for i, nd in enumerate(g.nodes):
        if nd.rank == "first":
            layer[i] = 0
    push_down()
    free = [layer[i] for i in range(n) if g.nodes[i].rank != "last"]
    bottom = max(free, default=-1) + 1
    for i, nd in enumerate(g.nodes):
        if nd.rank == "last":
            layer[i] = bottom
    push_down()
    # normalise so the top layer is 0
    low = min(layer, default=0)
    return [v - low for v in layer]


def build_items(g: Graph, layer: list[int], dag: Dag) -> None:
    """Fill ``g.items``, ``g.segments`` and ``g.chains``: node i is item i in layer
    2 * layer[i]; each edge is a chain of segments through one dummy per layer between its
    ends, its label on the dummy nearest the middle."""
    st = g.style
    for i in range(g.n):
        w, h = g.node_size[i]
        g.items.append(Item(layer=2 * layer[i], left=w / 2, right=w / 2, height=h, node=i))
    g.chains = [[] for _ in g.edges]
    for s, t, _w, k in dag:
        top, bottom = 2 * layer[s], 2 * layer[t]
        chain = [s]
        label_layer = _label_layer(top, bottom, g.reversed[k])
        for lay in range(top + 1, bottom):
            item = Item(layer=lay, left=0.0, right=0.0, height=0.0)
            if lay == label_layer and g.edge_lines[k]:
                lw, lh = g.edge_label_size[k]
                item.label, item.label_w, item.label_h = g.edge_lines[k], lw, lh
                item.right = st.label_offset + lw
                item.height = lh
            g.items.append(item)
            chain.append(len(g.items) - 1)
        chain.append(t)
        g.chains[k] = chain
        rel = g.w[k] / g.wmax
        for a, b in zip(chain, chain[1:], strict=False):
            da, db = g.items[a].node < 0, g.items[b].node < 0
            base = 8.0 if (da and db) else 2.0 if (da or db) else 1.0
            seg = Segment(
                upper=a,
                lower=b,
                weight=base * (1.0 + rel),
                chain=k,
                lane_upper=g.reversed[k] and a == chain[0],
                lane_lower=g.reversed[k] and b == chain[-1],
            )
            g.segments.append(seg)
            sid = len(g.segments) - 1
            g.items[a].downs.append(sid)
            g.items[b].ups.append(sid)


def _label_layer(top: int, bottom: int, back: bool) -> int:
    odd = [lay for lay in range(top + 1, bottom) if lay % 2 == 1]
    if not odd:
        return top + 1
    mid = (top + bottom) / 2
    return min(odd, key=lambda lay: (abs(lay - mid), lay if not back else -lay))
