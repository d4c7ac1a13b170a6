"""The working state of one layout: the input with its measured label sizes, and the layered
graph (real nodes and dummies, called items, joined by segments) that the stages fill in turn:
layering.py, then ordering.py, placement.py and routing.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sopaudit.drawing.model import Edge, Node, Style, node_size
from sopaudit.drawing.text import clip_text, text_width, wrap_text


@dataclass
class Item:
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
class Segment:
    """The part of an edge between two items of neighbouring layers."""

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


# a side attachment of a node: (node, kind, edge) with kind "up", "down", "loop", "loop_top" or
# "loop_bottom"
SideKey = tuple[int, str, int]


@dataclass
class Graph:
    """Everything a layout run knows about the graph. Nodes and edges are referred to by their
    index in the input; items 0..n-1 are the real nodes, dummies follow."""

    nodes: list[Node]
    edges: list[Edge]
    index: dict[str, int]  # node id -> node index
    style: Style
    w: list[float]  # edge weights as clean non-negative floats
    wmax: float
    wmin: float
    self_loops: list[bool]
    node_lines: list[tuple[str, ...]]  # wrapped label of each node
    node_size: list[tuple[float, float]]  # (w, h); placement makes a node taller for side lanes
    edge_lines: list[tuple[str, ...]]  # wrapped label of each edge (empty: no label)
    edge_label_size: list[tuple[float, float]]
    reversed: list[bool]  # drawn against the layering (a back edge)
    items: list[Item] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    chains: list[list[int]] = field(default_factory=list)  # per edge: items top to bottom
    # side lanes (placement.assign_ports): x offset of a lane and y offset of where it attaches,
    # both from the node's centre, and where a self loop's label goes
    lane_x: dict[SideKey, float] = field(default_factory=dict)
    attach_y: dict[SideKey, float] = field(default_factory=dict)
    loop_label_pos: dict[int, tuple[float, float]] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.nodes)


def prepare(nodes: list[Node], edges: list[Edge], index: dict[str, int], style: Style) -> Graph:
    """The graph with clean weights and measured, wrapped labels (cut at
    ``text.MAX_LABEL_CHARS`` characters)."""
    st = style
    # weights as clean non-negative floats (NaN, inf or negative count as 0)
    w = [float(e.weight) if math.isfinite(float(e.weight)) and e.weight > 0 else 0.0 for e in edges]
    lh = st.font_size * st.line_height
    node_lines: list[tuple[str, ...]] = []
    sizes: list[tuple[float, float]] = []
    for nd in nodes:
        lines = tuple(wrap_text(clip_text(nd.text), st.font_size, st.max_label_width))
        tw = max((text_width(s, st.font_size) for s in lines), default=0.0)
        th = lh * len(lines)
        node_lines.append(lines)
        sizes.append(node_size(nd.shape, tw, th, st))
    elh = st.edge_font_size * st.line_height
    edge_lines: list[tuple[str, ...]] = []
    edge_label_size: list[tuple[float, float]] = []
    for e in edges:
        if e.label:
            lines = tuple(
                wrap_text(clip_text(e.label), st.edge_font_size, st.max_edge_label_width)
            )
            tw = max(text_width(s, st.edge_font_size) for s in lines)
            edge_lines.append(lines)
            edge_label_size.append((tw + 2, elh * len(lines)))
        else:
            edge_lines.append(())
            edge_label_size.append((0.0, 0.0))
    return Graph(
        nodes=nodes,
        edges=edges,
        index=index,
        style=style,
        w=w,
        wmax=max(w, default=1.0) or 1.0,
        wmin=min(w, default=1.0),
        self_loops=[e.source == e.target for e in edges],
        node_lines=node_lines,
        node_size=sizes,
        edge_lines=edge_lines,
        edge_label_size=edge_label_size,
        reversed=[False] * len(edges),
    )


def edge_width(g: Graph, k: int) -> float:
    """Line width of edge ``k``: linear in its weight between the style's thinnest and
    thickest."""
    st = g.style
    w = g.w[k]
    if g.wmax <= g.wmin:
        return st.min_edge_width
    rel = (w - g.wmin) / (g.wmax - g.wmin)
    return st.min_edge_width + (st.max_edge_width - st.min_edge_width) * rel


def segment_between(g: Graph, a: int, b: int) -> int:
    """The id of the segment from item ``a`` down to item ``b``."""
    for sid in g.items[a].downs:
        if g.segments[sid].lower == b:
            return sid
    raise AssertionError("segment not found")
