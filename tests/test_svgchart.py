"""The report's charts as plain SVG (report/svgchart.py): every bar says its number, text is
escaped, ticks are round, the same data gives the same bytes."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd

from sopaudit.report import charts
from sopaudit.report.i18n import translator
from sopaudit.report.svgchart import Series, hbars, nice_ticks, vbars

NS = "{http://www.w3.org/2000/svg}"


def bars(svg: str) -> list[tuple[float, float, str]]:
    """(width, height, fill) of each bar, in drawing order."""
    root = ET.fromstring(svg)
    return [(float(r.get("width")), float(r.get("height")), r.get("fill")) for r in root.iter(f"{NS}rect")
            if (r.get("width"), r.get("height")) != ("10", "10")]  # legend swatches are 10 x 10


def test_nice_ticks():
    assert nice_ticks(382) == [0, 100, 200, 300, 400]
    assert nice_ticks(9) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(105) == [0, 25, 50, 75, 100, 125]
    assert nice_ticks(0) == [0.0, 1.0]


def test_findings_by_kind_bars_are_proportional_and_labelled():
    t = translator("en")
    svg = charts.findings_by_kind({"skipped": 1, "out_of_order": 335, "repeated": 382, "rule": 0}, t, "en")
    found = bars(svg)
    assert [f for _, _, f in found] == [charts.KIND_COLORS[k] for k in ("skipped", "out_of_order", "repeated")]
    widths = [w for w, _, _ in found]
    assert abs(widths[1] / widths[2] - 335 / 382) < 0.01 and abs(widths[0] / widths[2] - 1 / 382) < 0.01
    texts = [el.text for el in ET.fromstring(svg).iter(f"{NS}text")]
    assert [x for x in texts if x in ("1", "335", "382")] == ["1", "335", "382"]
    assert "Skipped step" in texts and svg == charts.findings_by_kind({"skipped": 1, "out_of_order": 335,
                                                                        "repeated": 382}, t, "en")


def test_month_chart_in_indonesian_numbers_and_stacked_steps():
    t = translator("id")
    monthly = pd.DataFrame({"month": ["2024-01", "2024-02"], "rate": [0.5, 0.875]})
    svg = charts.conformance_by_month(monthly, t, "id")
    assert "50%" in svg and "88%" in svg
    heights = [h for _, h, _ in bars(svg)]
    assert abs(heights[1] / heights[0] - 0.875 / 0.5) < 0.01
    table = pd.DataFrame({"skipped": [3, 1], "repeated": [2, 0]}, index=["Wawancara", "Cetak"])
    found = bars(charts.findings_by_step(table, t, "id"))
    assert len(found) == 3  # a zero is not drawn
    assert abs(found[0][0] / found[1][0] - 3 / 2) < 0.01 and abs(found[0][0] / found[2][0] - 3) < 0.01


def test_text_is_escaped_and_the_svg_is_well_formed():
    svg = hbars("<b>&", ["a < b", "$x$"], [Series([1, 2], "#000", "s & t")], x_label="x\"y", legend=True)
    ET.fromstring(svg)
    assert "&lt;b&gt;&amp;" in svg and "a &lt; b" in svg and "<b>" not in svg
    svg = vbars("t", ["Jan"], [3], "#000", y_label="y", ref_lines=[(0.0, "limit <4>")])
    ET.fromstring(svg)
    assert "limit &lt;4&gt;" in svg and re.search(r'stroke-dasharray="5 3"', svg)
