"""Rich display in notebooks: a short plain repr and compact HTML for an SOP, an audit and a
comparison."""

from __future__ import annotations

import sopaudit as sa
from test_report_support import demo_result


def test_sop_repr_and_html(passport_sop) -> None:
    assert repr(passport_sop) == ("<SOP SOP-IMI-PASPOR-01 'Penerbitan Paspor Biasa (Baru) melalui M-Paspor': "
                                  "17 steps, 9 roles, flow, 1 service standard(s)>")
    page = passport_sop._repr_html_()
    assert page.count("<tr>") == 1 + 17  # heading and one row per step
    assert "<svg" in page and "Pra-permohonan di aplikasi M-Paspor" in page


def test_audit_result_repr_and_html() -> None:
    result = demo_result()
    m = result.metrics
    assert repr(result) == (f"<AuditResult SOP-IMI-PASPOR-01: 63 cases, {m['deviations']:,} findings, "
                            f"{m['case_conformance_rate']:.1%} of finished cases conform>")
    assert len(repr(result)) < 200
    page = result._repr_html_()
    assert f"{m['conforming_cases']:,} ({m['case_conformance_rate']:.1%})" in page
    assert "<svg" in page and len(page) < 100_000


def test_comparison_repr_and_html() -> None:
    result = demo_result()
    c = sa.compare(result, result, labels=("<a>", "b"))
    assert repr(c) == f"<Comparison <a> -> b: {len(c.changes)} measures, 0 significant changes>"
    assert "&lt;a&gt; → b: 0 of" in c._repr_html_()
