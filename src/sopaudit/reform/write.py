"""The files of a reform evaluation: comparison.json (the numbers), comparison.xlsx (a sheet per
table, for the reform worksheet) and comparison.html (report style, no script, no network)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import jinja2
import matplotlib
import pandas as pd

from sopaudit import __version__
from sopaudit.core.outdir import staged_files, write_staged
from sopaudit.report.i18n import format_number, format_percent, translator
from sopaudit.report.safety import neutralise_frame

HERE = Path(__file__).parent
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined)
SCHEMA = "sopaudit.comparison/1.0"


def write_comparison(comparison, out_dir, lang: str = "id") -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": out / "comparison.json", "xlsx": out / "comparison.xlsx", "html": out / "comparison.html"}
    write_staged(files["json"], json.dumps(comparison_json(comparison), ensure_ascii=False, indent=1, allow_nan=False))
    _write_xlsx(comparison, files["xlsx"])
    write_staged(files["html"], render_comparison(comparison, lang))
    return files


def _clean(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def comparison_json(c) -> dict:
    return {
        "schema": SCHEMA, "tool_version": __version__, "labels": list(c.labels), "reform_date": c.reform_date,
        "parameters": c.parameters,
        "inputs": {"before": c.before.provenance.get("inputs", []), "after": c.after.provenance.get("inputs", [])},
        "changes": _records(c.changes), "segments": _records(c.segments[c.segments["notable"]]) if len(c.segments) else [],
        "trend": _records(c.trend), "indicators": _records(c.indicators),
    }


def _write_xlsx(c, path: Path) -> None:
    with staged_files(path) as (tmp,), pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        for name, frame in (("changes", c.changes), ("segments", c.segments), ("trend", c.trend),
                            ("indicators", c.indicators)):
            neutralise_frame(frame).to_excel(xw, sheet_name=name, index=False)
        pd.DataFrame(sorted((k, json.dumps(v) if isinstance(v, list) else v) for k, v in c.parameters.items()),
                     columns=["parameter", "value"]).to_excel(xw, sheet_name="method", index=False)


def measure_label(row, t, names: dict) -> str:
    if row["metric"] == "deviation_rate":
        return t("metric.deviation_rate", kind=t(f"kind.{row['kind']}"))
    if row["metric"] == "step_conformance":
        return t("metric.step_conformance", step=names.get(row["step"], row["step"]))
    return t(f"metric.{row['metric']}")


def render_comparison(c, lang: str = "id") -> str:
    t = translator(lang, HERE / "messages")
    alpha = c.parameters["alpha"]

    def fmt(value, metric: str, signed: bool = False) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        if metric == "median_service_days":
            text = format_number(value, lang, 1)
        else:
            text = format_percent(value, lang)
        return ("+" + text) if signed and value > 0 else text

    names = {s.id: s.name for s in c.after.sop.steps}

    def attr(name: str) -> str:
        return t(f"attr.{name}") if t.has(f"attr.{name}") else name

    changes = []
    for _, r in c.changes.iterrows():
        changes.append({"label": measure_label(r, t, names), "before": fmt(r["before"], r["metric"]),
                        "after": fmt(r["after"], r["metric"]), "change": fmt(r["change"], r["metric"], True),
                        "ci": f"{fmt(r['ci_low'], r['metric'], True)} … {fmt(r['ci_high'], r['metric'], True)}",
                        "p": _p(r["p_adjusted"], lang), "significant": bool(r["significant"]),
                        "sig": t("yes") if r["significant"] else t("no")})
    notable = c.segments[c.segments["notable"]] if len(c.segments) else c.segments
    segments = [{"period": s["period"], "attribute": attr(s["attribute"]), "value": s["value"],
                 "kind": t(f"kind.{s['kind']}"), "cases": format_number(s["cases"], lang),
                 "rate": format_percent(s["rate"], lang), "rest": format_percent(s["rest_rate"], lang),
                 "impact": format_number(s["impact"], lang), "p": _p(s["p_adjusted"], lang)}
                for _, s in notable.iterrows()]
    sentences = [t("segment.sentence", period=s["period"], share_findings=format_percent(s["share_of_findings"], lang, 0),
                   kind=t(f"kind.{s['kind']}"), attribute=attr(s["attribute"]), value=s["value"],
                   share_cases=format_percent(s["share_of_cases"], lang, 0), impact=format_number(s["impact"], lang))
                 for _, s in notable[(notable["kind"] != "any") & (notable["impact"] >= 1)]
                 .sort_values("impact", ascending=False).head(5).iterrows()]
    trend = [{"period": r["period"], "month": r["month"], "cases": format_number(r["cases"], lang),
              "rate": format_percent(r["rate"], lang), "service": fmt(r["service_rate"], "")}
             for _, r in c.trend.iterrows()]
    indicators = [{"label": t(f"indicator.{r['indicator']}"), "period": r["period"],
                   "value": format_percent(r["value"], lang), "numerator": format_number(r["numerator"], lang),
                   "denominator": format_number(r["denominator"], lang), "evidence": r["evidence"]}
                  for _, r in c.indicators.iterrows()]
    p = c.parameters
    method = [t("method.rates", rate_test=p["rate_test"]),
              t("method.times", time_test=p["time_test"], resamples=p["bootstrap_resamples"], seed=p["bootstrap_seed"]),
              t("method.correction", correction=p["correction"].capitalize(), alpha=alpha),
              t("method.population"), t("method.segments")]
    sop = c.after.sop.header
    return _env.get_template("comparison.html").render(
        lang=lang, t=t, sop=f"{sop.code} — {sop.title}", labels=c.labels, reform_date=c.reform_date,
        version=__version__, run_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        n_sig=int(c.changes["significant"].sum()), changes=changes, alpha=alpha,
        correction=p["correction"].capitalize(), sentences=sentences, segments=segments,
        chart=trend_chart(c, t, lang), trend=trend, indicators=indicators, method=method,
        css=(Path(__file__).parents[1] / "report" / "templates" / "report.css").read_text(encoding="utf-8"),
    )


def _p(value, lang: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "< 0,001" if value < 0.001 and lang == "id" else "< 0.001" if value < 0.001 else format_number(value, lang, 3)


def trend_chart(c, t, lang: str) -> str | None:
    """Conformance per month of both periods on one time axis, the reform date marked."""
    trend = c.trend
    if trend.empty:
        return None
    from sopaudit.report.charts import ACCENT, CHART_STYLE, figure_svg, new_figure

    with matplotlib.rc_context(CHART_STYLE):
        fig = new_figure(8.0, 2.8)
        ax = fig.add_subplot()
        months = sorted(trend["month"].unique())
        x = {m: i for i, m in enumerate(months)}
        for period, color in zip(c.labels, (ACCENT, "#2f855a"), strict=True):
            part = trend[trend["period"] == period]
            ax.plot([x[m] for m in part["month"]], 100 * part["rate"], marker="o", color=color, label=period)
        if c.reform_date:
            mark = c.reform_date[:7]
            pos = x.get(mark, sum(m < mark for m in months) - 0.5)
            ax.axvline(pos, color="#c53030", linestyle="--", linewidth=1)
            ax.text(pos, 102, t("reform_line"), color="#c53030", ha="center", fontsize=8)
        step = max(1, len(months) // 12)
        ax.set_xticks(list(range(0, len(months), step)), months[::step], rotation=45, ha="right")
        ax.set_ylim(0, 108)
        ax.set_ylabel(t("rate_axis"))
        ax.legend(loc="lower right", frameon=False)
        return figure_svg(fig)
