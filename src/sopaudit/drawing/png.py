"""PNG bytes of a :class:`Layout`, drawn with matplotlib (imported only when a PNG is asked
for). The same layout as the SVG: the same boxes, paths and wrapped lines."""

from __future__ import annotations

import io

from sopaudit.drawing.model import Layout, Point
from sopaudit.drawing.svg import rgb, text_color


def render_png(layout: Layout, scale: float = 2.0) -> bytes:
    """PNG bytes of the same layout drawn with matplotlib (DejaVu Sans), ``scale`` pixels per
    layout pixel. Bytes are stable: no software or time stamp is written into the file."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, FancyBboxPatch, PathPatch, Polygon
    from matplotlib.path import Path as MplPath

    st = layout.style
    w, h = max(layout.width, 1.0), max(layout.height, 1.0)
    fig = Figure(figsize=(w / 72, h / 72), dpi=72 * scale)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor(st.background)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_axis_off()
    family = "DejaVu Sans"
    codes_of = {"M": [MplPath.MOVETO], "L": [MplPath.LINETO], "C": [MplPath.CURVE4] * 3}
    for r in layout.edges:
        e = r.edge
        verts: list[Point] = []
        codes: list[int] = []
        for cmd, pts in r.path:
            verts.extend(pts)
            codes.extend(codes_of[cmd])
        color = e.color if rgb(e.color) else "#6b6b6b"
        ax.add_patch(
            PathPatch(
                MplPath(verts, codes),
                fill=False,
                edgecolor=color,
                linewidth=r.width,
                linestyle=(0, (6 / max(r.width, 1), 4 / max(r.width, 1))) if e.dashed else "-",
                capstyle="butt",
                joinstyle="round",
                zorder=1,
            )
        )
        tx, ty = r.tip
        dx, dy = r.direction
        bx, by = tx - dx * st.arrow_length, ty - dy * st.arrow_length
        px, py = -dy * st.arrow_width / 2, dx * st.arrow_width / 2
        ax.add_patch(
            Polygon(
                [(tx, ty), (bx + px, by + py), (bx - px, by - py)],
                closed=True,
                facecolor=color,
                edgecolor="none",
                zorder=2,
            )
        )
    for nb in layout.nodes.values():
        nd, b = nb.node, nb.box
        fill = nd.fill if rgb(nd.fill) else "#ffffff"
        stroke = nd.stroke if rgb(nd.stroke) else "#4d4d4d"
        kw = {"facecolor": fill, "edgecolor": stroke, "linewidth": 1.0, "zorder": 3}
        if nd.shape == "diamond":
            patch = Polygon(
                [(b.cx, b.y), (b.right, b.cy), (b.cx, b.bottom), (b.x, b.cy)], closed=True, **kw
            )
        elif nd.shape == "circle":
            patch = Ellipse((b.cx, b.cy), b.w, b.h, **kw)
        else:
            rad = b.h / 2 if nd.shape == "terminator" else 4.0
            patch = FancyBboxPatch(
                (b.x + rad, b.y + rad),
                max(b.w - 2 * rad, 0.0),
                max(b.h - 2 * rad, 0.0),
                boxstyle=f"round,pad={rad}",
                **kw,
            )
        ax.add_patch(patch)
        tc = text_color(nd)
        tc = tc if rgb(tc) else "#1a1a1a"
        lh = st.font_size * st.line_height
        top = b.cy - lh * len(nb.lines) / 2
        for i, line in enumerate(nb.lines):
            ax.text(
                b.cx,
                top + lh * (i + 0.5),
                line,
                ha="center",
                va="center_baseline",
                fontsize=st.font_size,
                family=family,
                color=tc,
                zorder=4,
            )
    for r in layout.edges:
        if r.label_box is None:
            continue
        lb = r.label_box
        lh = st.edge_font_size * st.line_height
        top = lb.cy - lh * len(r.label_lines) / 2
        for i, line in enumerate(r.label_lines):
            ax.text(
                lb.x + 1,
                top + lh * (i + 0.5),
                line,
                ha="left",
                va="center_baseline",
                fontsize=st.edge_font_size,
                family=family,
                color="#333333",
                zorder=5,
            )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72 * scale, metadata={"Software": None})
    return buf.getvalue()
