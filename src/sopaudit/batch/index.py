"""The batch's own outputs in OUT: batch.json (one record per audit), index.html and index.xlsx
comparing the audits, each with a link to the audit's report. Written atomically."""

from __future__ import annotations

import html
import io
import json

from openpyxl import Workbook
from openpyxl.styles import Font

from sopaudit.core.outdir import write_staged
from sopaudit.report.i18n import (
    format_date,
    format_number,
    format_percent,
    format_run_time,
    translator,
)
from sopaudit.report.safety import xlsx_text

BATCH_SCHEMA = "1.0"


def batch_document(title: str, run_at: str, plan_path: str, executor: str, records: list[dict]) -> dict:
    counts = {s: sum(r["status"] == s for r in records) for s in ("ok", "skipped", "failed")}
    return {"schema_version": BATCH_SCHEMA, "title": title, "plan": plan_path, "run_at": run_at,
            "executor": executor, "counts": counts, "audits": records}


def write_batch_json(doc: dict, path) -> None:
    write_staged(path, json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")


def _metric(r: dict, key: str):
    return (r.get("metrics") or {}).get(key)


def _service_share(r: dict):
    s = _metric(r, "service_standard")
    return s.get("share_within") if isinstance(s, dict) else None


def _period(r: dict, lang: str) -> str:
    p = _metric(r, "period")
    if not isinstance(p, dict) or not p.get("first_event"):
        return ""
    return f"{format_date(p['first_event'], lang, 'medium')} – {format_date(p['last_event'], lang, 'medium')}"


def _top(r: dict, t, n: int = 3) -> str:
    top = _metric(r, "top_deviations") or []
    return "; ".join(f"{t('kind.' + d['kind'])}: {d.get('step_name') or d.get('step') or ''} ({d['findings']})"
                     for d in top[:n])


def _sop(r: dict) -> str:
    s = _metric(r, "sop") or {}
    return " ".join(str(s.get(k)) for k in ("code", "version") if s.get(k))


def rows(records: list[dict], t, lang: str) -> list[dict]:
    """One display row per audit (text for HTML, raw numbers for XLSX)."""
    out = []
    for r in records:
        out.append({
            "name": r["name"], "office": r.get("office") or "", "status": t(f"batch.status.{r['status']}"),
            "sop": _sop(r), "period": _period(r, lang), "cases": _metric(r, "cases"),
            "events": _metric(r, "events"), "conformance": _metric(r, "case_conformance_rate"),
            "service": _service_share(r), "fitness": _metric(r, "fitness"), "deviations": _metric(r, "deviations"),
            "top": _top(r, t), "error": r.get("error") or "", "ok": r["status"] != "failed",
            "report": (r["status"] != "failed" and "html" in (r.get("parameters") or {}).get("formats", ())),
        })
    return out


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}
td.n{text-align:right;font-variant-numeric:tabular-nums}tr.failed td{background:#fdecea}
.err{color:#a30;white-space:pre-wrap;font-size:.8rem}figure{margin:1.5rem 0}"""


def render_index_html(doc: dict, lang: str, trend_svg: str | None = None) -> str:
    t = translator(lang)
    e = html.escape
    c = doc["counts"]
    head = [t("batch.audit"), t("batch.office"), t("batch.status"), t("batch.sop"), t("batch.period"),
            t("batch.cases"), t("batch.events"), t("batch.conformance"), t("batch.service_standard"),
            t("batch.fitness"), t("batch.deviations"), t("batch.top_deviations"), t("batch.report")]
    body = []
    for row in rows(doc["audits"], t, lang):
        link = (f'<a href="{e(row["name"])}/report.html">{e(t("batch.open_report"))}</a>' if row["report"] else "")
        cells = [e(row["name"]), e(row["office"]), e(row["status"]), e(row["sop"]), e(row["period"]),
                 format_number(row["cases"], lang), format_number(row["events"], lang),
                 format_percent(row["conformance"], lang), format_percent(row["service"], lang),
                 format_number(row["fitness"], lang, 3), format_number(row["deviations"], lang), e(row["top"]), link]
        numeric = {5, 6, 7, 8, 9, 10}
        tds = "".join(f'<td class="n">{v}</td>' if i in numeric else f"<td>{v}</td>" for i, v in enumerate(cells))
        body.append(f'<tr class="{"failed" if not row["ok"] else ""}">{tds}</tr>')
        if row["error"]:
            body.append(f'<tr class="failed"><td></td><td colspan="{len(head) - 1}" class="err">'
                        f'{e(t("batch.error"))}: {e(row["error"])}</td></tr>')
    trend = f"<figure>{trend_svg}</figure>" if trend_svg else ""  # the chart carries its title
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
            f"<title>{e(t('batch.title'))}: {e(doc['title'])}</title><style>{_CSS}</style></head><body>"
            f"<h1>{e(t('batch.title'))}: {e(doc['title'])}</h1>"
            f"<p>{e(t('batch.run_at', when=format_run_time(doc['run_at'], lang)))}. "
            f"{e(t('batch.counts', total=len(doc['audits']), ok=c['ok'], skipped=c['skipped'], failed=c['failed']))}</p>"
            f"<table><thead><tr>{''.join(f'<th>{e(h)}</th>' for h in head)}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{trend}</body></html>\n")


def write_index_xlsx(doc: dict, path, lang: str) -> None:
    t = translator(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = t("batch.sheet")
    head = [("name", "batch.audit"), ("office", "batch.office"), ("status", "batch.status"), ("sop", "batch.sop"),
            ("period", "batch.period"), ("cases", "batch.cases"), ("events", "batch.events"),
            ("conformance", "batch.conformance"), ("service", "batch.service_standard"), ("fitness", "batch.fitness"),
            ("deviations", "batch.deviations"), ("top", "batch.top_deviations"), ("report", "batch.report"),
            ("error", "batch.error")]
    ws.append([t(label) for _, label in head])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows(doc["audits"], t, lang):
        values = []
        for key, _ in head:
            if key == "report":
                values.append(f"{row['name']}/report.html" if row["report"] else None)
            else:
                v = row[key]
                values.append(xlsx_text(v) if isinstance(v, str) else v)
        ws.append(values)
        r = ws.max_row
        if row["report"]:
            link = ws.cell(row=r, column=13)
            link.hyperlink = f"{row['name']}/report.html"
            link.style = "Hyperlink"
        for col in (8, 9):
            ws.cell(row=r, column=col).number_format = "0.0%"
        ws.cell(row=r, column=10).number_format = "0.000"
    for col, width in zip("ABCDEFGHIJKLMN", (22, 14, 14, 14, 24, 9, 10, 14, 14, 9, 10, 50, 20, 60), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "B2"
    buf = io.BytesIO()
    wb.save(buf)
    write_staged(path, buf.getvalue())
