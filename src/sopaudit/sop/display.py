"""An SOP in a notebook cell: the header, the SOP AP table and the flowchart. Attached to `SOP`
by the package (`sop/__init__.py`), so the model itself never imports the renderer."""

from __future__ import annotations

import html

from sopaudit.sop.model import SOP


def sop_html(sop: SOP) -> str:
    from sopaudit.sop.draw import draw_sop  # the renderer only when a cell is shown
    from sopaudit.sop.table import sop_rows

    rows = sop_rows(sop)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) if rows else ""
    body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r.values()) + "</tr>" for r in rows)
    chart = f"<details><summary>Flowchart</summary>{draw_sop(sop)}</details>" if sop.flow is not None else ""
    return (f"<h4>{html.escape(sop.header.code)} — {html.escape(sop.header.title)}</h4>"
            f"<p>{len(sop.steps)} steps, {len(sop.roles)} roles</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{chart}")
