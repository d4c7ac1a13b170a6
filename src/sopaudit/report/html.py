"""report.html: one self-contained file (inline CSS, SVG, script and data; no network request).

Every value from the exports reaches the page through Jinja2 autoescaping or as JSON read with
`JSON.parse` and written with `textContent`; the one script is allowed by its hash in the
Content-Security-Policy, so nothing else can run. Large audits keep the page small and short: the
findings travel as compact arrays (texts and names once, rows pointing at them) and the script
draws one page of the list at a time, filtering over all of them; the embedded findings, the
drill-down events and the long tables are capped, and the page says how many it shows and where
the full lists are (deviations.csv, findings.xlsx).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from functools import cache
from importlib import resources

import jinja2
import pandas as pd

from sopaudit.core.columns import ACTIVITY, CASE, LABEL, RESOURCE, ROW, TIME
from sopaudit.core.kinds import ALL_KINDS, DEVIATING
from sopaudit.core.usercache import cache_folder
from sopaudit.report import charts, figures, maps
from sopaudit.report.details import DetailWriter, duration_text, measured_text, unit_label
from sopaudit.report.i18n import (
    format_date,
    format_number,
    format_percent,
    format_run_time,
    missing,
    time_texts,
    translator,
)
from sopaudit.report.quality import quality_view
from sopaudit.report.safety import json_for_script
from sopaudit.report.values import open_cases_view, parameter_rows, phrase

FINDINGS_LIMIT = 20_000  # findings embedded in the page (~1.5 MB at most); the CSV/XLSX have them all
CASES_LIMIT = 1000  # cases whose events are embedded for the drill-down
EVENTS_PER_CASE = 150  # events embedded per case
OPTIONS_LIMIT = 300  # entries of a filter's drop-down
TABLE_LIMIT = 50  # rows of the smaller tables (officers, accepted findings, quality lists)

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("sopaudit.report", "templates"),
    autoescape=True,  # every value comes from exports and may contain markup
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """The page template compiled once and kept in the user's cache folder: compiling it takes
    about 60 ms of every report, loading it 1 ms. Jinja keys each entry by the template's source
    and by its own and Python's versions, and stores it by rename; a folder that cannot be written
    only means no cache."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


@cache
def _cache_compiled_templates() -> None:
    """Keep them in the user's cache folder (core/usercache.py) when it can be made."""
    folder = cache_folder("templates")
    if folder is not None:
        _env.bytecode_cache = _CompiledTemplates(str(folder))


@cache
def _asset(name: str) -> str:
    return resources.files("sopaudit.report").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def _str(value) -> str:
    return "" if missing(value) else str(value)


def pick_findings(deviations: pd.DataFrame, limit: int = FINDINGS_LIMIT) -> pd.DataFrame:
    """The findings shown in the page: all of them when they fit; otherwise the first ones (by
    case id) of every kind, an equal share each, so the kind filter shows examples of each."""
    if len(deviations) <= limit:
        return deviations
    kinds = [k for k in ALL_KINDS if (deviations["kind"] == k).any()]
    quota = max(1, limit // len(kinds))
    chosen = [deviations.index[deviations["kind"] == k][:quota] for k in kinds]
    picked = pd.Index(sorted(set().union(*map(set, chosen))))
    if len(picked) < limit:  # kinds with fewer findings than the quota leave room for others
        rest = deviations.index.difference(picked)[: limit - len(picked)]
        picked = picked.union(rest)
    return deviations.loc[picked.sort_values()[:limit]]


def _per_distinct(column: pd.Series | None, f, n: int) -> list:
    """f of every value of a column (None: a column the table lacks), computed once per distinct
    value: findings repeat their kinds, steps, officers and times thousands of times."""
    if column is None:
        return [f(None)] * n if n else []
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    texts = [f(u) for u in uniques.tolist()]
    if (codes < 0).any():
        texts.append(f(None))  # code -1: missing
    return [texts[c] for c in codes.tolist()]


def _finding_columns(shown: pd.DataFrame, detail: DetailWriter, t, lang: str) -> dict[str, list]:
    """The shown findings' display values, one list per field in row order: the page's list,
    its drill-down and the accepted table read them (no dict per finding)."""
    n = len(shown)

    def col(name, f=_str) -> list:
        return _per_distinct(shown.get(name), f, n)

    return {"case_id": col("case_id"), "kind": col("kind", lambda k: k),
            "kind_label": col("kind", lambda k: t(f"kind.{k}")), "step": col("step"),
            "step_name": col("step_name"), "detail": detail.column(shown), "event_row": col("event_row"),
            "event_time": time_texts(shown["event_time"], lang) if "event_time" in shown else [""] * n, "resource": col("resource"),
            "evidence": col("evidence_rows"), "accepted": col("accepted", bool),
            "accepted_reason": col("accepted_reason", lambda r: phrase(_str(r), t))}


def findings_data(cols: dict[str, list], drill: list[bool]) -> dict:
    """The findings list for the page's script, compact: kinds, steps, officers and texts once,
    each row a list pointing at them (see report.js for the order of the fields)."""
    kinds: dict[tuple[str, str], int] = {}
    steps: dict[tuple[str, str], int] = {}
    officers: dict[str, int] = {}
    texts: dict[str, int] = {}
    detail_ix, reason_ix = [], []
    for d, a, r in zip(cols["detail"], cols["accepted"], cols["accepted_reason"], strict=True):
        detail_ix.append(texts.setdefault(d, len(texts)))  # a row's detail first, then its reason
        reason_ix.append(texts.setdefault(r, len(texts)) if a else -1)
    kind_ix = [kinds.setdefault(k, len(kinds)) for k in zip(cols["kind"], cols["kind_label"], strict=True)]
    step_ix = [steps.setdefault(k, len(steps)) for k in zip(cols["step"], cols["step_name"], strict=True)]
    officer_ix = [officers.setdefault(o, len(officers)) if o else -1 for o in cols["resource"]]
    rows = [list(r) for r in zip(cols["case_id"], kind_ix, step_ix, detail_ix, cols["event_row"], cols["event_time"],
                                 officer_ix, cols["evidence"], reason_ix, map(int, drill), strict=True)]
    return {"kinds": [list(k) for k in kinds], "steps": [list(k) for k in steps], "officers": list(officers),
            "texts": list(texts), "rows": rows}


def case_data(result, case_ids: list[str], cols: dict[str, list], t, lang: str) -> dict:
    """Events of the given cases (capped per case) and their shown findings, for the drill-down."""
    log = result.log
    names = {s.id: s.name for s in result.sop.steps}
    ev = log[log[CASE].astype("string").isin(case_ids)]
    ev = ev.sort_values([CASE, TIME] + ([ROW] if ROW in ev else []), kind="mergesort")
    n = len(ev)

    def col(name) -> list[str]:
        return [_str(v) for v in ev[name].tolist()] if name in ev else [""] * n

    steps = col(ACTIVITY)
    table = list(zip(col(ROW), time_texts(ev[TIME], lang) if TIME in ev else [""] * n,
                     col(LABEL) if LABEL in ev else steps,
                     [names.get(s, "") for s in steps], col(RESOURCE), strict=True))
    keys = ev[CASE].astype("string").tolist()
    wanted = result.cases[result.cases["case_id"].isin(case_ids)]
    status = dict(zip(wanted["case_id"].astype(str), wanted["status"].astype(str), strict=True)) \
        if "status" in wanted else {}
    out: dict[str, dict] = {}
    for key, event in zip(keys, table, strict=True):
        entry = out.get(key)
        if entry is None:
            st = status.get(key, "")
            entry = out[key] = {"e": [], "more": 0, "f": [],
                                "status": t(f"status.{st}") if t.has(f"status.{st}") else ""}
        if len(entry["e"]) < EVENTS_PER_CASE:
            entry["e"].append(list(event))
        else:
            entry["more"] += 1
    for c, kind, label, step_name, text, row, evidence in zip(
            cols["case_id"], cols["kind"], cols["kind_label"], cols["step_name"], cols["detail"], cols["event_row"],
            cols["evidence"], strict=True):
        if c in out:
            out[c]["f"].append([kind, label, step_name, text, row, [x for x in evidence.split("; ") if x]])
    return out


def _sop_view(result, t, lang: str) -> dict:
    h = result.sop.header
    return {"code": h.code, "title": h.title, "version": h.version, "unit": h.unit,
            "effective": format_date(h.effective, lang) if h.effective else "",
            "approver": h.approver, "legal_basis": list(h.legal_basis)}


def _steps_view(result, overlay: dict, t, lang: str) -> list[dict]:
    by_id = {s.id: s for s in result.sop.steps}
    role_names = {r.id: r.name for r in result.sop.roles}
    out = []
    for r in result.steps.to_dict(orient="records"):
        step = by_id.get(r["step"])
        o = overlay.get(r["step"], {})
        out.append({**r, "duration": duration_text(step.time.duration, t, lang) if step else "",
                    "wait": duration_text(step.time.wait, t, lang) if step else "",
                    "inferred": bool(step and step.time.inferred),
                    "share_in_order": o.get("in_order"), "share_skipped": o.get("skipped"),
                    "share_out_of_order": o.get("out_of_order"), "share_repeated": o.get("repeated"),
                    "fill": o.get("fill", ""),
                    "role_names": ", ".join(role_names.get(x, x) for x in (step.roles if step else ()))
                    or _str(r.get("roles"))})
    return out


def _time_view(result, t, lang: str) -> dict:
    sop = result.sop
    names = {s.id: s.name for s in sop.steps}
    standards = [{"step": s.name, "duration": duration_text(s.time.duration, t, lang),
                  "wait": duration_text(s.time.wait, t, lang), "inferred": s.time.inferred}
                 for s in sop.steps if s.time.duration or s.time.wait]
    service = []
    for ss in sop.service_standards:
        service.append({
            "limit": duration_text(ss.limit, t, lang), "from": names.get(ss.from_step, ss.from_step),
            "to": names.get(ss.to_step, ss.to_step), "attribute": ss.attribute,
            "per_value": [(v, duration_text(d, t, lang)) for v, d in ss.per_value],
            "pauses": [(names.get(a, a), names.get(b, b)) for a, b in ss.pauses],
            "start_at": ss.start_at,
        })
    timing = []
    if not result.timing.empty:
        for r in result.timing.to_dict(orient="records"):
            unit = _str(r.get("unit"))
            measure = _str(r.get("measure"))
            timing.append({
                "step": names.get(_str(r.get("step")), _str(r.get("step"))),
                "measure": t(f"measure.{measure}") if t.has(f"measure.{measure}") else measure,
                "n": r.get("n"), "median": measured_text(r.get("median"), unit, t, lang) or "–",
                "p90": measured_text(r.get("p90"), unit, t, lang) or "–",
                "share_within": r.get("share_within"),
                "limit": measured_text(r.get("limit"), unit, t, lang), "inferred": bool(r.get("inferred")),
            })
    m = result.metrics
    return {
        "standards": standards, "service": service, "timing": timing,
        "service_share": figures.service_standard(result.cases),
        "late_step": m["deviations_by_kind"].get("late_step", 0),
        "late_case": m["deviations_by_kind"].get("late_case", 0),
        "cases_late_step": m["cases_with_kind"].get("late_step", 0),
        "cases_late_case": m["cases_with_kind"].get("late_case", 0),
        "chart_service": charts.service_days(result.cases, t, lang),
        "chart_steps": charts.step_times(result.timing, t, lang, names),
    }


def _roles_view(result, t, lang: str) -> dict:
    sop = result.sop
    steps_of: dict[str, list[str]] = {}
    for s in sop.steps:
        for r in s.roles:
            steps_of.setdefault(r, []).append(s.name)
    names = {s.id: s.name for s in sop.steps}
    roles = [{"id": r.id, "name": r.name, "steps": steps_of.get(r.id, [])} for r in sop.roles]
    sod = [{"steps": [names.get(s, s) for s in r.steps], "description": r.description}
           for r in sop.rules if r.kind == "separation_of_duties"]
    officers = figures.officers(result, n=TABLE_LIMIT)
    n_officers = int(result.log[RESOURCE].nunique()) if RESOURCE in result.log else 0
    m = result.metrics
    return {
        "roles": roles, "sod": sod, "has_resource": RESOURCE in result.log,
        "officers": officers.to_dict(orient="records"), "n_officers": n_officers,
        "wrong_role": m["deviations_by_kind"].get("wrong_role", 0),
        "duty_conflict": m["deviations_by_kind"].get("duty_conflict", 0),
        "cases_wrong_role": m["cases_with_kind"].get("wrong_role", 0),
        "cases_duty_conflict": m["cases_with_kind"].get("duty_conflict", 0),
    }


def _accepted_view(result, detail: DetailWriter, t, lang: str) -> dict:
    acc = result.accepted
    entries = []
    if not acc.empty:
        for r in acc.to_dict(orient="records"):
            entries.append({
                "line": _str(r.get("line")),
                "kind": t(f"kind.{r['kind']}") if t.has(f"kind.{r.get('kind')}") else _str(r.get("kind")),
                "step": detail.name(_str(r.get("step"))) if _str(r.get("step")) != "*" else t("all_steps"),
                "condition": _str(r.get("condition")),
                "valid": " – ".join(format_date(r.get(k), lang) if _str(r.get(k)) else "…"
                                    for k in ("valid_from", "valid_to")),
                "reason": _str(r.get("reason")), "approved_by": _str(r.get("approved_by")),
                "matched": r.get("findings_matched", 0),
            })
    dev = result.deviations
    accepted = dev[dev["accepted"].fillna(False).astype(bool)] if "accepted" in dev else dev.iloc[:0]
    cols = _finding_columns(accepted.head(TABLE_LIMIT), detail, t, lang)
    return {"entries": entries, "findings": [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)],
            "n_findings": len(accepted)}


def _provenance_view(result, t, lang: str) -> dict:
    p = result.provenance
    return {
        "tool_version": p.get("tool_version", ""), "run_at": format_run_time(p.get("run_at", ""), lang),
        "run_at_iso": p.get("run_at", ""), "seconds": p.get("seconds"),
        "rows_read": p.get("log_rows_read"), "rows_rejected": p.get("log_rows_rejected", len(result.rejected)),
        "inputs": p.get("inputs", []),
        "parameters": parameter_rows(p.get("parameters") or {}, t, lang),
    }


def mapping_warnings(result, t, lang: str) -> list[str]:
    """The ingest's warnings about the mapping (few cases, rows without a time), in words."""
    out = []
    for w in (result.quality or {}).get("warnings", []):
        params = {k: format_number(v, lang) if isinstance(v, int) else v for k, v in w.items() if k not in ("kind", "message")}
        key = f"warning.{w.get('kind')}"
        out.append(t(key, **params) if t.has(key) else str(w.get("message", "")))
    return out


def _verdict(result, t, lang: str) -> list[str]:
    """The verdict in plain words: a few sentences, each only about what the result holds."""
    m = result.metrics
    num = lambda v: format_number(v, lang)  # noqa: E731
    finished = m.get("finished_cases", m["cases"])
    out = []
    if finished and m["conforming_cases"] == finished:
        out.append(t("verdict_all", n=num(finished)))
    elif finished:
        counts = m["deviations_by_kind"]
        top = max(DEVIATING, key=lambda k: (counts.get(k, 0), -ALL_KINDS.index(k)))
        out.append(t("verdict_some", conf=num(m["conforming_cases"]), n=num(finished),
                     rate=format_percent(m["case_conformance_rate"], lang),
                     dev=num(finished - m["conforming_cases"]), top_kind=t(f"kind.{top}"),
                     top_n=num(counts.get(top, 0))))
    incomplete = m.get("incomplete_cases", 0)
    if incomplete:
        out.append(t("verdict_incomplete", n=num(incomplete)))
    unaligned = m.get("unaligned_variants") or []
    if unaligned:
        out.append(t("verdict_unaligned", n=num(m.get("unaligned_cases", 0)), v=num(len(unaligned)),
                     variants="; ".join(f"#{u['variant_id']} ({u['variant']})" for u in unaligned[:5])
                     + (" …" if len(unaligned) > 5 else "")))
    svc = figures.service_standard(result.cases)
    if svc and svc["cases_measured"]:
        out.append(t("verdict_service", within=num(svc["cases_within"]), n=num(svc["cases_measured"]),
                     share=format_percent(svc["share_within"], lang)))
    if m.get("accepted_deviations"):
        out.append(t("verdict_accepted", n=num(m["accepted_deviations"])))
    return out


def _segments_view(result, t, lang: str) -> dict | None:
    """The notable segments (analysis/segments.py) of an audit run with --segments, in words."""
    seg = getattr(result, "segments", None)
    if seg is None or seg.empty:
        return None
    attr = {"org:resource": t("segments.officer"), "month": t("segments.month"), "weekday": t("segments.weekday")}
    kind = lambda k: t("segments.any") if k == "any" else t(f"kind.{k}")  # noqa: E731
    notable = seg[seg["notable"]].sort_values(["impact", "kind"], ascending=[False, True], kind="stable")
    rows = [{"attribute": attr.get(r.attribute, r.attribute), "value": r.value, "kind": kind(r.kind),
             "cases": format_number(r.cases, lang), "findings": format_number(r.findings, lang),
             "rate": format_percent(r.rate, lang), "rest": format_percent(r.rest_rate, lang),
             "impact": format_number(r.impact, lang)} for r in notable.itertuples()]
    sentences = [t("segments.sentence", share_findings=format_percent(r.share_of_findings, lang, 0), kind=kind(r.kind),
                   attribute=attr.get(r.attribute, r.attribute), value=r.value,
                   share_cases=format_percent(r.share_of_cases, lang, 0), impact=format_number(r.impact, lang))
                 for r in notable.itertuples() if r.kind != "any" and r.impact >= 1][:5]
    by = ", ".join(attr.get(a, a) for a in dict.fromkeys(seg["attribute"]))
    return {"rows": rows, "sentences": sentences, "by": by}


def _warnings_view(result, t, lang: str) -> list[str]:
    """Label warnings (conform.labels.label_warnings) in the report language."""
    names = {s.id: s.name for s in result.sop.steps}
    out = []
    for w in getattr(result, "warnings", []) or []:
        if w.get("code") == "near_label":
            out.append(t("warn.near_label", step=names.get(w["step"], w["step"]), step_id=w["step"], label=w["label"],
                         events=format_number(w["events"], lang), similarity=format_percent(w["similarity"], lang)))
        elif w.get("code") == "few_labels":
            out.append(t("warn.few_labels", matched=format_number(w["labels_matched"], lang),
                         labels=format_number(w["labels"], lang)))
    return out


def render_html(result, lang: str = "id") -> str:
    """The report page of an audit, in Bahasa Indonesia (`id`) or English (`en`)."""
    t = translator(lang)
    detail = DetailWriter(result.sop, t, lang)
    m = result.metrics
    dev = result.deviations
    shown = pick_findings(dev)
    case_ids = list(dict.fromkeys(shown["case_id"].astype(str)))[:CASES_LIMIT]
    cols = _finding_columns(shown, detail, t, lang)
    drill = case_data(result, case_ids, cols, t, lang)
    # a case whose events are not in the log (hand-built results) has no drill-down
    has_drill = [c in drill for c in cols["case_id"]]

    overlay = maps.step_overlay(result.steps)
    top = figures.top_deviations(result, n=10)
    span = figures.period(result.cases)
    monthly = figures.conformance_by_month(result.cases)
    script = _asset("report.js")
    page_data = {
        "cases": drill,
        "findings": findings_data(cols, has_drill),
        "labels": {k: t(f"js.{k}") for k in ("row", "time", "recorded", "step", "officer", "findings",
                                             "more_events", "no_case", "shown", "close", "status", "page",
                                             "accepted", "evidence")},
        "lang": lang,
    }
    _cache_compiled_templates()
    return _env.get_template("report.html").render(
        lang=lang, t=t, m=m, kinds=ALL_KINDS, deviating=DEVIATING, sop=_sop_view(result, t, lang),
        defs=figures.definitions(result, t, num=lambda v: format_number(v, lang),
                                 dec=lambda v, digits=3: format_number(v, lang, digits)),
        fitness_shown=figures.fitness_shown(result),
        deviating_cases=m.get("cases_with_findings", 0),
        label_warnings=_warnings_view(result, t, lang),
        segments=_segments_view(result, t, lang),
        open_method=open_cases_view(result.provenance.get("parameters") or {}, t, lang),
        period=(format_date(span[0], lang), format_date(span[1], lang)) if span else None,
        verdict=_verdict(result, t, lang),
        warnings=mapping_warnings(result, t, lang),
        service=figures.service_standard(result.cases),
        top=top.to_dict(orient="records"),
        chart_month=charts.conformance_by_month(monthly, t, lang),
        chart_kind=charts.findings_by_kind(m["deviations_by_kind"], t, lang),
        chart_step=charts.findings_by_step(figures.findings_by_step(result), t, lang),
        drawings=maps.process_drawings(result, overlay, t, lang),
        map_note=maps.map_note(result, t, lang),
        overlay=overlay, steps=_steps_view(result, overlay, t, lang),
        shown=len(shown), total=len(dev), card_cols=card_columns(m),
        step_options=sorted(set(zip(cols["step"], cols["step_name"], strict=True)), key=lambda x: x[1])[:OPTIONS_LIMIT],
        officer_options=sorted(set(cols["resource"]) - {""})[:OPTIONS_LIMIT],
        kind_options=[k for k in ALL_KINDS if k in set(cols["kind"])],
        n_drill=len(drill), cases_limit=CASES_LIMIT,
        time=_time_view(result, t, lang), roles=_roles_view(result, t, lang),
        quality=quality_view(result, t, lang, TABLE_LIMIT),
        accepted=_accepted_view(result, detail, t, lang),
        prov=_provenance_view(result, t, lang),
        glossary=[(t(f"glossary.{k}.term"), t(f"glossary.{k}.text")) for k in GLOSSARY],
        css=_asset("report.css"), script=script, script_hash=_csp_hash(script),
        data_json=json_for_script(page_data),
        num=lambda v: format_number(v, lang), pct=lambda v: format_percent(v, lang),
        dec=lambda v, d: format_number(v, lang, d), unit=lambda u: unit_label(u, t),
    )


def card_columns(m: dict) -> tuple[int, int]:
    """Columns of the KPI cards on a wide and a middle-sized screen, so that the rows fill
    evenly (6 cards: 6, then 3 + 3; 7 cards: 4 + 3 on both); a phone has two columns."""
    n = 6 + (m.get("precision") is not None)
    half = -(-n // 2)
    return (n if n <= 6 else half), half


GLOSSARY = ("conformance", "finding", "variant", "alignment", "fitness", "service_standard",
            "working_day", "four_eyes", "accepted", "incomplete", "source_row", "p90")
