"""A drawing under a heading and a legend, as one SVG (the maps of :mod:`sopaudit.discovery.overlay`)."""

from __future__ import annotations

import html
import re

from sopaudit import drawing

_SIZE = re.compile(r'^<svg [^>]*?width="([0-9.]+)" height="([0-9.]+)"')


def with_legend(
    map_svg: str,
    title: str,
    subtitle: str,
    legend: list[tuple[tuple[str, ...] | None, str]],
    st: drawing.Style,
) -> str:
    """The map under a heading (bold title, subtitle) and a legend, as one SVG: the map is
    nested as an inner <svg>. Every text is escaped; the same inputs give the same bytes."""
    m = _SIZE.match(map_svg)
    if m is None:  # render_svg always writes width and height first
        raise ValueError("not an SVG written by sopaudit.drawing")
    w, h = float(m.group(1)), float(m.group(2))
    fs = st.font_size
    lh = round(fs * 1.6, 2)
    pad = st.margin
    swatch = 28.0
    title_fs = fs + 2
    # bold DejaVu Sans is about a tenth wider than the regular metrics text_width knows
    text_w = max([1.12 * drawing.text_width(title, title_fs), drawing.text_width(subtitle, fs)]
                 + [swatch + 8 + drawing.text_width(t, fs) for _, t in legend])
    width = max(w, text_w + 2 * pad)
    y0 = pad + title_fs * 1.4 + (lh if subtitle else 0.0)
    head = y0 + lh * len(legend) + 4

    def f(v: float) -> str:
        s = f"{v:.2f}".rstrip("0").rstrip(".")
        return "0" if s in ("-0", "") else s

    def esc(s: str) -> str:
        return html.escape(str(s), quote=True)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{f(width)}" height="{f(head + h)}" '
        f'viewBox="0 0 {f(width)} {f(head + h)}" font-family="{esc(st.font_family)}">',
        f"<title>{esc(title)}</title>",
        f'<rect x="0" y="0" width="{f(width)}" height="{f(head + h)}" fill="{esc(st.background)}"/>',
        f'<text x="{f(pad)}" y="{f(pad + title_fs)}" font-size="{f(title_fs)}" '
        f'font-weight="bold" fill="#1a1a1a">{esc(title)}</text>',
    ]
    if subtitle:
        out.append(f'<text x="{f(pad)}" y="{f(pad + title_fs * 1.4 + 0.5 * lh + 0.35 * fs)}" '
                   f'font-size="{f(fs)}" fill="#333333">{esc(subtitle)}</text>')
    out.append('<g class="legend">')
    for i, (sw, text) in enumerate(legend):
        cy = y0 + lh * (i + 0.5)
        if sw is not None and sw[0] == "line":
            dash = ' stroke-dasharray="6 4"' if sw[2] == "dashed" else ""
            out.append(f'<line x1="{f(pad)}" y1="{f(cy)}" x2="{f(pad + swatch)}" y2="{f(cy)}" '
                       f'stroke="{esc(sw[1])}" stroke-width="2.5"{dash}/>')
        elif sw is not None and sw[0] == "box":
            out.append(f'<rect x="{f(pad + 4)}" y="{f(cy - fs * 0.5)}" width="{f(swatch - 8)}" '
                       f'height="{f(fs)}" rx="2" fill="{esc(sw[1])}" stroke="{esc(sw[2])}"/>')
        out.append(f'<text x="{f(pad + swatch + 8)}" y="{f(cy + 0.35 * fs)}" font-size="{f(fs)}" '
                   f'fill="#333333">{esc(text)}</text>')
    out.append("</g>")
    inner = map_svg.rstrip("\n")
    x = (width - w) / 2
    inner = inner.replace("<svg ", f'<svg x="{f(x)}" y="{f(head)}" ', 1)
    out.append(inner)
    out.append("</svg>")
    return "\n".join(out) + "\n"
