"""Layered graph layout and rendering to SVG and PNG, without Graphviz: used for process maps
and SOP flowcharts."""

from sopaudit.drawing.engine import (
    SHAPES,
    Box,
    Edge,
    Layout,
    Node,
    Style,
    draw,
    layout_graph,
    render_png,
    render_svg,
    text_width,
    wrap_text,
)

__all__ = ["SHAPES", "Box", "Edge", "Layout", "Node", "Style", "draw", "layout_graph", "render_png",
           "render_svg", "text_width", "wrap_text"]
