"""Crossing reduction: the order of the items within each layer. A depth-first first
order, then weighted barycenter sweeps with Gansner et al.'s transpose step, keeping the
ordering with the fewest crossings."""

from __future__ import annotations

import bisect

from sopaudit.drawing.state import Graph


def initial_order(g: Graph, n_layers: int) -> list[list[int]]:
    """Items per layer in depth-first order from the top nodes, heavier edges first."""
    layers: list[list[int]] = [[] for _ in range(n_layers)]
    seen = [False] * len(g.items)
    order_roots = sorted(range(g.n), key=lambda i: (g.items[i].layer, i))

    def visit(root: int) -> None:
        stack = [root]
        while stack:
            v = stack.pop()
            if seen[v]:
                continue
            seen[v] = True
            layers[g.items[v].layer].append(v)
            downs = sorted(
                g.items[v].downs,
                key=lambda sid: (-g.w[g.segments[sid].chain], sid),
            )
            for sid in reversed(downs):
                nxt = g.segments[sid].lower
                if not seen[nxt]:
                    stack.append(nxt)

    for r in order_roots:
        if not g.items[r].ups:
            visit(r)
    for r in order_roots:
        visit(r)
    for i in range(len(g.items)):
        if not seen[i]:
            visit(i)
    return layers


def crossings(g: Graph, layers: list[list[int]], pos: list[int]) -> int:
    """The number of crossings between segments of neighbouring layers."""
    total = 0
    for layer in layers[:-1]:
        pairs = []
        for v in layer:
            for sid in g.items[v].downs:
                sg = g.segments[sid]
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


def order(g: Graph, layers: list[list[int]]) -> list[list[int]]:
    """A better order of ``layers`` (changed in place on the way)."""
    pos = [0] * len(g.items)
    for layer in layers:
        for i, v in enumerate(layer):
            pos[v] = i
    best = [list(layer) for layer in layers]
    best_c = crossings(g, layers, pos)
    for it in range(g.style.crossing_sweeps):
        if best_c == 0:
            break
        down = it % 2 == 0
        rng = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for li in rng:
            layer = layers[li]
            keys = []
            for v in layer:
                sids = g.items[v].ups if down else g.items[v].downs
                if sids:
                    segs = [g.segments[s] for s in sids]
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
        _transpose(g, layers, pos, rounds=2)
        c = crossings(g, layers, pos)
        if c < best_c:
            best_c = c
            best = [list(layer) for layer in layers]
    for layer in best:
        for i, v in enumerate(layer):
            pos[v] = i
    if best_c:
        _transpose(g, best, pos)
    return best


def _transpose(g: Graph, layers: list[list[int]], pos: list[int], rounds: int = 8) -> None:
    """Swap neighbours in a layer while that removes crossings (Gansner et al.'s
    transpose step), in place."""
    segs = g.segments
    ups = [sorted(segs[s].key_upper(pos) for s in it.ups) for it in g.items]
    downs = [sorted(segs[s].key_lower(pos) for s in it.downs) for it in g.items]

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
                                it = g.items[w]
                                ups[w] = sorted(segs[s].key_upper(pos) for s in it.ups)
                                downs[w] = sorted(segs[s].key_lower(pos) for s in it.downs)
        if not improved:
            break
