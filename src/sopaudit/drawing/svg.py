"""SVG text of a :class:`Layout`, written directly: self-contained, every label and attribute
escaped, numbers rounded, the same bytes for the same layout."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable

from sopaudit.drawing.model import Layout, Node, Point
from sopaudit.drawing.text import MAX_TOOLTIP_CHARS, clip_text

_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def rgb(color: str) -> tuple[float, float, float] | None:
    """A ``#rgb`` or ``#rrggbb`` colour as three fractions, None for anything else."""
    m = _HEX.match(color.strip())
    if not m:
        return None
    h = m.group(1)
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def text_color(node: Node) -> str:
    """The node's text colour, or black or white, whichever reads better on its fill."""
    if node.text_color:
        return node.text_color
    fill = rgb(node.fill)
    if fill is None:
        return "#1a1a1a"
    lum = 0.2126 * fill[0] + 0.7152 * fill[1] + 0.0722 * fill[2]
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
        tip = e.tooltip or f"{e.source} → {e.target}" + (f": {e.label}" if e.label else "")
        tip = _esc(clip_text(tip, MAX_TOOLTIP_CHARS))
        out.append(
            f'<g class="edge"><title>{tip}</title><path d="{_svg_path(r.path)}" '
            f'stroke="{_esc(e.color)}" stroke-width="{_f(r.width)}"{dash} '
            f'marker-end="url(#{marker[e.color]})"/></g>'
        )
    out.append("</g>")
    out.append('<g class="nodes">')
    for nb in layout.nodes.values():
        nd, b = nb.node, nb.box
        out.append(f'<g class="node"><title>{_esc(clip_text(nd.tooltip or nd.text, MAX_TOOLTIP_CHARS))}</title>')
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
            f'fill="{_esc(text_color(nd))}">{tspans}</text></g>'
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
