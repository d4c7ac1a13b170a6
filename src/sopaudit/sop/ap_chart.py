"""The flowchart of an SOP AP table drawn over its Pelaksana columns, as the form has it: each
row's symbol in the column of its role at the height of its row, an arrow to the row that
follows, and each jump (a decision's "ya"/"tidak", a step that goes back or on) as a line along
the right of the columns into the row it leads to.

The geometry is given in pixels (column spans and row bands), so the picture lies exactly on
the cells it is anchored to; the layout is drawn by `sopaudit.drawing` (PNG)."""

from __future__ import annotations

from dataclasses import dataclass

from sopaudit.drawing.model import Box, Edge, EdgeRoute, Layout, Node, NodeBox, Style
from sopaudit.sop.ap_rows import NEXT, ApRow

SHAPES = {"step": "box", "decision": "diamond", "start": "terminator", "end": "terminator"}
FILLS = {"step": "#ffffff", "decision": "#fff2cc", "start": "#d9ead3", "end": "#f4cccc"}
LANE_GAP = 8.0  # pixels between the vertical lines of two jumps
STYLE = Style(edge_font_size=9.0, arrow_length=7.0, arrow_width=6.0, margin=0.0)


@dataclass(frozen=True)
class Geometry:
    """Where the Pelaksana columns and the table rows lie, in pixels from the chart's corner."""

    columns: tuple[tuple[float, float], ...]  # (left, right) of where symbols stand in each role column
    rows: tuple[tuple[float, float], ...]  # (top, bottom) of each table row, in row order
    width: float  # the whole chart, the lanes of the jumps right of the last column's symbols included

    @property
    def height(self) -> float:
        return self.rows[-1][1]


def lanes_needed(rows: list[ApRow]) -> int:
    """How many vertical lanes the jumps of the table need (the room to keep right of the columns)."""
    return max((lane for *_, lane in _jumps(rows)), default=-1) + 1


def chart_layout(rows: list[ApRow], columns_of: list[tuple[int, ...]], geo: Geometry) -> Layout:
    """The flowchart of `rows` (numbered from 1, jumps as row numbers) with row k's symbol in
    each column of `columns_of[k - 1]` (the arrows meet the first) of `geo`."""
    boxes: dict[str, NodeBox] = {}
    for r, cols in zip(rows, columns_of, strict=True):
        for i, col in enumerate(cols or (0,)):
            (x0, x1), (y0, y1) = geo.columns[col], geo.rows[r.label - 1]
            cw, rh = x1 - x0, y1 - y0
            w = min(cw * (0.62 if r.kind == "decision" else 0.7), 96.0)
            h = min(rh * (0.7 if r.kind == "decision" else 0.5), 34.0 if r.kind == "decision" else 24.0)
            fill = FILLS["start"] if r.kind == "end" and not r.end else FILLS[r.kind]  # the normal end
            node = Node(f"r{r.label}" + (f".{i}" if i else ""), "", SHAPES[r.kind], fill)
            boxes[node.id] = NodeBox(node, Box((x0 + x1) / 2 - w / 2, (y0 + y1) / 2 - h / 2, w, h), r.label, ())
    edges: list[EdgeRoute] = []
    lane_x = geo.width - LANE_GAP / 2
    jumps = {(src, answer): (dst, lane) for src, answer, dst, lane in _jumps(rows)}
    for r in rows:
        for answer, dst in _answers(r, len(rows)):
            label = {"yes": "Ya", "no": "Tidak"}.get(answer, "")
            a, b = boxes[f"r{r.label}"].box, boxes[f"r{dst}"].box
            if (r.label, answer) in jumps:
                x = lane_x - LANE_GAP * jumps[(r.label, answer)][1]
                edges.append(_route(Edge(f"r{r.label}", f"r{dst}", label),
                                    [(a.right, a.cy), (x, a.cy), (x, b.cy)], (b.right, b.cy), (-1.0, 0.0),
                                    (a.right + 2, a.cy - 13) if label else None))
            else:  # the next row: down from the symbol, across at the rows' border if the role changes
                border = geo.rows[r.label - 1][1]
                points = [(a.cx, a.bottom)] + ([(a.cx, border), (b.cx, border)] if a.cx != b.cx else [])
                edges.append(_route(Edge(f"r{r.label}", f"r{dst}", label), points, (b.cx, b.y), (0.0, 1.0),
                                    (a.cx + 3, a.bottom) if label else None))
    return Layout(boxes, edges, geo.width, geo.height, STYLE)


def _answers(r: ApRow, n: int) -> list[tuple[str, int]]:
    """(answer, row number) of each way out of row `r`: "yes"/"no" for a decision, "" otherwise."""
    if r.kind == "end":
        return []
    ways = [("yes", r.yes), ("no", r.no)] if r.kind == "decision" else [("", NEXT if r.goto is None else r.goto)]
    out = []
    for answer, to in ways:
        dst = r.label + 1 if to == NEXT else to
        if isinstance(dst, int) and dst <= n:
            out.append((answer, dst))
    return out


def _jumps(rows: list[ApRow]) -> list[tuple[int, str, int, int]]:
    """(row, answer, target row, lane) of every way out that is not to the next row; shorter jumps
    get the lanes nearer the symbols, and jumps whose spans overlap never share a lane."""
    found = [(r.label, answer, dst) for r in rows for answer, dst in _answers(r, len(rows)) if dst != r.label + 1]
    found.sort(key=lambda j: (abs(j[2] - j[0]), j[0], j[1]))
    taken: list[list[tuple[int, int]]] = []
    out = []
    for src, answer, dst in found:
        lo, hi = min(src, dst), max(src, dst)
        lane = next((k for k, spans in enumerate(taken) if all(hi < a or lo > b for a, b in spans)), len(taken))
        if lane == len(taken):
            taken.append([])
        taken[lane].append((lo, hi))
        out.append((src, answer, dst, lane))
    return out


def _route(edge: Edge, points: list[tuple[float, float]], tip: tuple[float, float], direction: tuple[float, float],
           label_at: tuple[float, float] | None) -> EdgeRoute:
    base = (tip[0] - direction[0] * STYLE.arrow_length, tip[1] - direction[1] * STYLE.arrow_length)
    path = (("M", (points[0],)),) + tuple(("L", (p,)) for p in points[1:] + [base])
    label_box = Box(label_at[0], label_at[1], 8 + 5.5 * len(edge.label), 12) if label_at else None
    return EdgeRoute(edge, path, tip, direction, 1.2, label_box, (edge.label,) if label_at else ())
