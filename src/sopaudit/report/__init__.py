"""Report files of an audit: CSV tables, summary.json and a self-contained report.html."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pandas as pd

from ..kinds import ALL_KINDS as KINDS
from .i18n import format_number, format_percent, translator
from .safety import neutralise_frame
from .summary import build_summary

HTML_ROW_LIMIT = 2000  # the HTML shows the first findings; the CSV has them all

_env = jinja2.Environment(
    loader=jinja2.PackageLoader("sopaudit.report", "templates"),
    autoescape=True,  # every value comes from exports and may contain markup
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def _csv(df: pd.DataFrame, path: Path) -> None:
    neutralise_frame(df).to_csv(path, index=False, lineterminator="\n")


def detail_text(row, t) -> str:
    """The finding's explanation in the report language."""
    steps = ", ".join(f"'{s}'" for s in str(row.get("related") or "").split("; ") if s)
    return t(f"detail.{row['detail_code']}", after=row.get("expected_after") or "", steps=steps,
             step=row["step"])


def _verdict(m: dict, t, lang: str) -> str:
    if m["cases"] and m["conforming_cases"] == m["cases"]:
        return t("verdict_all", n=format_number(m["cases"], lang))
    top = max(KINDS, key=lambda k: (m["deviations_by_kind"][k], -KINDS.index(k)))
    return t("verdict_some", conf=format_number(m["conforming_cases"], lang), n=format_number(m["cases"], lang),
             rate=format_percent(m["case_conformance_rate"], lang),
             dev=format_number(m["cases"] - m["conforming_cases"], lang), top_kind=t(f"kind.{top}"),
             top_n=format_number(m["deviations_by_kind"][top], lang))


def render_html(result, lang: str = "id") -> str:
    t = translator(lang)
    devs = result.deviations.head(HTML_ROW_LIMIT).copy()
    devs["detail"] = [detail_text(r, t) for r in devs.to_dict(orient="records")]
    devs["event_row"] = devs["event_row"].astype("Int64").astype("string").fillna("")
    devs["event_time"] = devs["event_time"].astype("string").fillna("")
    devs["resource"] = devs["resource"].astype("string").fillna("")
    h = result.sop.header
    return _env.get_template("report.html").render(
        lang=lang, t=t, m=result.metrics, prov=result.provenance, kinds=KINDS,
        sop={"code": h.code, "title": h.title, "version": h.version},
        steps=result.steps.to_dict(orient="records"),
        devs=devs.to_dict(orient="records"), shown=len(devs), total=len(result.deviations),
        step_options=sorted(result.deviations["step"].astype(str).unique()),
        verdict=_verdict(result.metrics, t, lang),
        num=lambda v: format_number(v, lang), pct=lambda v: format_percent(v, lang),
        dec=lambda v, d: format_number(v, lang, d),
    )


def write_report(result, out_dir, formats=("html", "csv", "json"), lang: str = "id") -> dict[str, Path]:
    """Write the chosen formats into out_dir (created if needed); returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    if "csv" in formats:
        for name, df in (("deviations", result.deviations), ("cases", result.cases), ("steps", result.steps),
                         ("variants", result.variants)):
            path = out / f"{name}.csv"
            _csv(df, path)
            written[name] = path
    if "json" in formats:
        path = out / "summary.json"
        path.write_text(json.dumps(build_summary(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written["summary"] = path
    if "html" in formats:
        path = out / "report.html"
        path.write_text(render_html(result, lang), encoding="utf-8")
        written["report"] = path
    return written
