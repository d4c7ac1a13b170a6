"""Compact HTML of an audit for a notebook cell: the headline numbers, the findings per kind
and step, and the SOP flowchart (the full report is `result.write()`)."""

from __future__ import annotations

import html

from sopaudit.core.kinds import ALL_KINDS


def result_html(result, top: int = 10) -> str:
    m = result.metrics
    esc = html.escape
    cards = [("cases", f"{m['cases']:,}"), ("finished", f"{m['finished_cases']:,}"),
             ("conforming", f"{m['conforming_cases']:,} ({m['case_conformance_rate']:.1%})"),
             ("still open", f"{m['incomplete_cases']:,}"), ("findings", f"{m['deviations']:,}"),
             ("fitness", f"{m['fitness']:.3f}")]
    if m.get("cases_with_service_standard"):
        cards.append(("within service standard", f"{m['service_standard_rate']:.1%}"))
    head = "".join(f"<td><b>{esc(v)}</b><br><small>{esc(k)}</small></td>" for k, v in cards)
    dev = result.deviations
    counts = dev.groupby(["kind", "step"]).size().rename("findings").reset_index() if len(dev) else dev
    if len(counts):
        order = {k: i for i, k in enumerate(ALL_KINDS)}
        counts = counts.sort_values(["findings", "kind"], ascending=[False, True],
                                    key=lambda s: s.map(order) if s.name == "kind" else s).head(top)
        rows = "".join(f"<tr><td>{esc(str(r.kind))}</td><td>{esc(str(r.step))}</td><td>{r.findings:,}</td></tr>"
                       for r in counts.itertuples())
        table = f"<table><thead><tr><th>kind</th><th>step</th><th>findings</th></tr></thead><tbody>{rows}</tbody></table>"
    else:
        table = "<p>No findings.</p>"
    chart = ""
    if result.sop.flow is not None:
        from sopaudit.sop.draw import draw_sop

        chart = f"<details><summary>SOP flowchart</summary>{draw_sop(result.sop)}</details>"
    return (f"<h4>Audit of {esc(result.sop.header.code)} — {esc(result.sop.header.title)}</h4>"
            f"<table><tr>{head}</tr></table><h5>Most frequent findings</h5>{table}{chart}")
