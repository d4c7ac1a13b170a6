"""Bar charts written straight as SVG text for the report page: vertical bars (per month, per
day) and horizontal bars (per kind, per step; stacked or side by side), with axes, ticks, value
labels, reference lines and a legend.

Written by hand instead of by matplotlib, which took longer to import (0.3 s) and to draw (0.1 s
a chart) than the audit of a log like Sepsis spent on its reports. Deterministic (the same data
gives the same bytes); text widths come from `sopaudit.drawing.text` (DejaVu Sans advance
widths), so labels are placed the same on every machine; all text is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sopaudit.drawing.text import text_width

FONT = 11.0  # px: tick and axis labels
SMALL = 9.5  # px: value labels and the legend
TITLE = 13.0
LINE = 1.25  # line height, in font sizes
AXIS = "#4a5568"
GRID = "#e2e8f0"
REF = "#c53030"


@dataclass(frozen=True)
class Series:
    """Bars of one colour (or one colour per bar), one value per category; `offset` and
    `height` (in category steps) place side-by-side series within a row."""

    values: Sequence[float]
    color: str | Sequence[str]
    name: str = ""
    offset: float = 0.0
    height: float = 0.7


def _f(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v % 1 else str(int(v))


def _esc(s: str) -> str:
    return html.escape(str(s), quote=True)


def _text(x: float, y: float, s: str, size: float = FONT, anchor: str = "start", color: str = AXIS,
          extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" font-size="{_f(size)}" text-anchor="{anchor}" fill="{color}"'
            f"{extra}>{_esc(s)}</text>")


def nice_ticks(top: float, n: int = 5) -> list[float]:
    """Round tick values from 0 to at least `top` (steps of 1, 2, 2.5 or 5 times a power of 10)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / n
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    count = math.ceil(top / step - 1e-9)
    return [round(k * step, 10) for k in range(count + 1)]


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    width = max(width, text_width(title, TITLE) * 1.08 + 4)  # the bold title is wider than regular text
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_f(width)}" height="{_f(height)}" '
            f'viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-label="{_esc(title)}" '
            'font-family="DejaVu Sans, Verdana, Arial, sans-serif">\n'
            f"<title>{_esc(title)}</title>\n" + "\n".join(body) + "\n</svg>\n")


def _legend(items: list[tuple[str, str]], x: float, y: float, right: float) -> tuple[list[str], float]:
    """Legend entries in rows from (x, y), a new row before `right`; the SVG and its height."""
    out, left, rows = [], x, 1
    for name, color in items:
        w = 14 + text_width(name, SMALL) + 14
        if x > left and x + w - 14 > right:
            x, y, rows = left, y + 16, rows + 1
        out.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="10" height="10" fill="{color}"/>')
        out.append(_text(x + 14, y + 9, name, SMALL))
        x += w
    return out, 16.0 * rows


def vbars(title: str, labels: Sequence[str], values: Sequence[float], color: str, *, y_label: str,
          x_label: str = "", value_labels: Sequence[str] | None = None, y_max: float | None = None,
          fmt: Callable[[float], str] = _f, positions: Sequence[float] | None = None,
          bar_width: float = 0.6, x_ticks: Sequence[tuple[float, str]] | None = None,
          x_range: tuple[float, float] | None = None, rotate: bool = False,
          ref_lines: Sequence[tuple[float, str]] = (), width: float | None = None) -> str:
    """Vertical bars at `positions` (default 0, 1, ...; labelled by `labels` unless `x_ticks`
    gives numeric ticks), values on a y axis from 0; `ref_lines` are dashed lines at x values."""
    n = len(values)
    positions = list(positions) if positions is not None else list(range(n))
    lo, hi = x_range or (-0.5 - 0.5 * (n < 4), n - 0.5 + 0.5 * (n < 4))
    ticks = nice_ticks(max(values, default=0)) if y_max is None else \
        [v for v in nice_ticks(y_max) if v <= y_max]
    top = y_max if y_max is not None else ticks[-1]
    tick_texts = [fmt(v) for v in ticks]
    xt = list(x_ticks) if x_ticks is not None else list(zip(positions, labels, strict=True))
    label_w = max((text_width(s, FONT) for _, s in xt), default=0)
    left = 18 + max((text_width(s, FONT) for s in tick_texts), default=0) + 8
    plot_w = width or max(260.0, min(640.0, 90 + 38 * n))
    plot_h = max(150.0, text_width(y_label, FONT) + 8)  # the y axis label fits along the axis
    head = TITLE * LINE + 8
    below = (label_w * 0.72 + 14 if rotate else FONT * LINE + 6) + (FONT * LINE + 4 if x_label else 0)
    total_w, total_h = left + plot_w + 12, head + plot_h + below + 4
    x0, y0 = left, head + plot_h  # origin of the plot area (bottom left)

    def px(x: float) -> float:
        return x0 + (x - lo) / (hi - lo) * plot_w

    def py(v: float) -> float:
        return y0 - v / top * plot_h if top else y0

    body = [_text(0, TITLE, title, TITLE, color="#1a202c", extra=' font-weight="bold"')]
    for v, s in zip(ticks, tick_texts, strict=True):
        body.append(f'<line x1="{_f(x0)}" y1="{_f(py(v))}" x2="{_f(x0 + plot_w)}" y2="{_f(py(v))}" '
                    f'stroke="{GRID if v else AXIS}" stroke-width="1"/>')
        body.append(_text(x0 - 5, py(v) + FONT * 0.35, s, anchor="end"))
    body.append(f'<line x1="{_f(x0)}" y1="{_f(head)}" x2="{_f(x0)}" y2="{_f(y0)}" stroke="{AXIS}"/>')
    scale = plot_w / (hi - lo)
    for i, (x, v) in enumerate(zip(positions, values, strict=True)):
        h = y0 - py(v)
        body.append(f'<rect x="{_f(px(x) - bar_width * scale / 2)}" y="{_f(py(v))}" '
                    f'width="{_f(bar_width * scale)}" height="{_f(h)}" fill="{color}"/>')
        if value_labels is not None:
            body.append(_text(px(x), py(v) - 3, value_labels[i], SMALL, "middle"))
    for x, s in xt:
        if rotate:
            body.append(_text(px(x), y0 + FONT + 2, s, anchor="end",
                              extra=f' transform="rotate(-45 {_f(px(x))} {_f(y0 + FONT + 2)})"'))
        else:
            body.append(_text(px(x), y0 + FONT + 4, s, anchor="middle"))
    for x, s in ref_lines:
        body.append(f'<line x1="{_f(px(x))}" y1="{_f(head)}" x2="{_f(px(x))}" y2="{_f(y0)}" stroke="{REF}" '
                    'stroke-width="1.2" stroke-dasharray="5 3"/>')
        body.append(_text(px(x) + 3, head + SMALL, s, SMALL, color=REF))
    if x_label:
        body.append(_text(x0 + plot_w / 2, total_h - 6, x_label, anchor="middle"))
    body.append(_text(12, head + plot_h / 2, y_label, anchor="middle",
                      extra=f' transform="rotate(-90 12 {_f(head + plot_h / 2)})"'))
    return _svg(total_w, total_h, title, body)


def hbars(title: str, labels: Sequence[str], series: Sequence[Series], *, x_label: str,
          stacked: bool = False, value_labels: Sequence[str] | None = None, legend: bool = False,
          ref_line: float | None = None, fmt: Callable[[float], str] = _f, row: float = 24.0,
          width: float = 560.0) -> str:
    """Horizontal bars, one row per label (first at the top; a label's lines split at newlines);
    several series side by side (their `offset`) or `stacked`; `ref_line` is a dashed line at
    an x value."""
    n = len(labels)
    ends = [sum(s.values[i] for s in series) if stacked else max(s.values[i] for s in series) for i in range(n)]
    ticks = nice_ticks(max([*ends, ref_line or 0], default=0))
    lines = [str(lbl).split("\n") for lbl in labels]  # labels come wrapped (charts._short)
    left = max((text_width(s, FONT) for ls in lines for s in ls), default=0) + 12
    row = max(row, FONT * LINE * max((len(ls) for ls in lines), default=1) + 4)
    plot_w = max(160.0, width - left - 40)
    leg: list[str] = []
    leg_h = 0.0
    if legend:
        items = [(s.name, s.color if isinstance(s.color, str) else s.color[0]) for s in series]
        leg, leg_h = _legend(items, 0, TITLE * LINE + 6, left + plot_w + 30)
    head = TITLE * LINE + 8 + (leg_h + 6 if legend else 0)
    plot_h = row * n
    total_w, total_h = left + plot_w + 40, head + plot_h + FONT * LINE * 2 + 14
    x0, y0 = left, head
    top = ticks[-1]

    def px(v: float) -> float:
        return x0 + v / top * plot_w if top else x0

    body = [_text(0, TITLE, title, TITLE, color="#1a202c", extra=' font-weight="bold"'), *leg]
    for v in ticks:
        body.append(f'<line x1="{_f(px(v))}" y1="{_f(y0)}" x2="{_f(px(v))}" y2="{_f(y0 + plot_h)}" '
                    f'stroke="{GRID if v else AXIS}" stroke-width="1"/>')
        body.append(_text(px(v), y0 + plot_h + FONT + 4, fmt(v), anchor="middle"))
    body.append(f'<line x1="{_f(x0)}" y1="{_f(y0 + plot_h)}" x2="{_f(x0 + plot_w)}" y2="{_f(y0 + plot_h)}" '
                f'stroke="{AXIS}"/>')
    for i, ls in enumerate(lines):
        mid = y0 + row * (i + 0.5)
        first = mid - (len(ls) - 1) * FONT * LINE / 2 + FONT * 0.35
        for k, s in enumerate(ls):
            body.append(_text(x0 - 6, first + k * FONT * LINE, s, anchor="end"))
        start = 0.0
        for s in series:
            v = float(s.values[i])
            color = s.color if isinstance(s.color, str) else s.color[i]
            h = s.height * row
            y = mid + s.offset * row - h / 2
            x = px(start) if stacked else x0
            if v > 0:
                body.append(f'<rect x="{_f(x)}" y="{_f(y)}" width="{_f(px(v) - x0)}" height="{_f(h)}" '
                            f'fill="{color}"><title>{_esc(s.name + ": " if s.name else "")}{_esc(fmt(v))}</title></rect>')
            if stacked:
                start += v
        if value_labels is not None:
            body.append(_text(px(ends[i]) + 4, mid + SMALL * 0.35, value_labels[i], SMALL))
    if ref_line is not None:
        body.append(f'<line x1="{_f(px(ref_line))}" y1="{_f(y0)}" x2="{_f(px(ref_line))}" y2="{_f(y0 + plot_h)}" '
                    f'stroke="{REF}" stroke-width="1.2" stroke-dasharray="5 3"/>')
    body.append(_text(x0 + plot_w / 2, total_h - 6, x_label, anchor="middle"))
    return _svg(total_w, total_h, title, body)
