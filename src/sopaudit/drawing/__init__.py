"""Layered graph layout and rendering to SVG and PNG, without Graphviz: used for process maps
and SOP flowcharts.

Public surface: the input types :class:`Node`, :class:`Edge`, :class:`Style`; the computed
:class:`Layout` (node boxes and edge routes, with :class:`Box` geometry, so tests can check
overlaps); :func:`layout_graph`, :func:`render_svg`, :func:`render_png` and the one-call
:func:`draw`; the text helpers :func:`text_width` and :func:`wrap_text`; ``SHAPES``.

Modules, in the order a drawing passes through them: text.py (widths, wrapping), model.py
(types, shape outlines), state.py (the working graph), layering.py, ordering.py, placement.py,
routing.py, layout.py (the pipeline), svg.py, png.py; dot.py is the optional Graphviz path.
"""

from sopaudit.drawing.layout import draw, layout_graph
from sopaudit.drawing.model import SHAPES, Box, Edge, Layout, Node, Style
from sopaudit.drawing.png import render_png
from sopaudit.drawing.svg import render_svg
from sopaudit.drawing.text import text_width, wrap_text

__all__ = ["SHAPES", "Box", "Edge", "Layout", "Node", "Style", "draw", "layout_graph", "render_png",
           "render_svg", "text_width", "wrap_text"]
