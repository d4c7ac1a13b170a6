"""The drawing's data: what goes in (:class:`Node`, :class:`Edge`, :class:`Style`), what comes
out (:class:`Layout` with a :class:`NodeBox` per node and an :class:`EdgeRoute` per edge), the
outline geometry of the node shapes, and the rounding that keeps output stable."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

Shape = Literal["box", "diamond", "terminator", "circle"]
SHAPES: tuple[str, ...] = ("box", "diamond", "terminator", "circle")
Point = tuple[float, float]


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


# ---------------------------------------------------------------------------------------------
# Shapes


def node_size(shape: str, text_w: float, text_h: float, style: Style) -> tuple[float, float]:
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


def half_height_at(shape: str, w: float, h: float, dx: float) -> float:
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


def half_width_at(shape: str, w: float, h: float, dy: float) -> float:
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
# Rounding


def round_px(v: float) -> float:
    """Round to 1/100 px so the output does not depend on the last bits of float arithmetic."""
    out = round(v, 2)
    return 0.0 if out == 0 else out


def round_point(p: Point) -> Point:
    return (round_px(p[0]), round_px(p[1]))


def round_path(path: list[tuple[str, tuple[Point, ...]]]) -> tuple[tuple[str, tuple[Point, ...]], ...]:
    return tuple((cmd, tuple(round_point(p) for p in pts)) for cmd, pts in path)


def round_box(b: Box | None) -> Box | None:
    return None if b is None else Box(round_px(b.x), round_px(b.y), round_px(b.w), round_px(b.h))

