"""Charts of the report, drawn with matplotlib and returned as SVG text to inline in the HTML.

Deterministic: a fixed `svg.hashsalt`, no date in the metadata, text kept as SVG text (small,
searchable, and escaped by matplotlib's XML writer). Math-text parsing is off, so a label such
as `$x$` from an export is drawn as written. Each function returns None when there is nothing to
draw; the report then says so in words.
"""

from __future__ import annotations

import io
import re
import textwrap

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from sopaudit.core.kinds import ALL_KINDS
from sopaudit.report.i18n import Translator, format_month, format_number

KIND_COLORS = {
    "skipped": "#c53030", "out_of_order": "#b7791f", "repeated": "#2c7a7b", "unexpected": "#6b46c1",
    "wrong_branch": "#d53f8c", "late_step": "#dd6b20", "late_case": "#9c4221", "wrong_role": "#2b6cb0",
    "duty_conflict": "#553c9a", "rule": "#4a5568", "incomplete": "#a0aec0",
}
ACCENT = "#2b6cb0"
CHART_STYLE = {
    "svg.hashsalt": "sopaudit",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def figure_svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context(CHART_STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    # Inline SVG needs no XML prolog, DOCTYPE, RDF metadata (its namespaces are URLs) or the
    # comment that names matplotlib's version.
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    return re.sub(r"<!-- Created with matplotlib.*?-->\n?", "", text)


def new_figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(CHART_STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def _short(label: str, width: int = 30, lines: int = 2) -> str:
    """A tick label wrapped to `lines` lines of about `width` characters (cut with an ellipsis)."""
    parts = textwrap.wrap(str(label), width) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1] + "…"
    return "\n".join(parts)


def conformance_by_month(monthly: pd.DataFrame, t: Translator, lang: str) -> str | None:
    """Bars: share of finished cases that conform, per month of their start."""
    if monthly.empty:
        return None
    with matplotlib.rc_context(CHART_STYLE):
        fig = new_figure(max(3.6, min(9.0, 1.6 + 0.45 * len(monthly))), 2.6)
        ax = fig.add_subplot()
        x = range(len(monthly))
        ax.bar(x, 100 * monthly["rate"], color=ACCENT, width=0.6)
        ax.set_xlim(-0.5 - 0.5 * (len(monthly) < 4), len(monthly) - 0.5 + 0.5 * (len(monthly) < 4))
        ax.set_xticks(list(x), [format_month(m, lang) for m in monthly["month"]],
                      rotation=45 if len(monthly) > 8 else 0, ha="right" if len(monthly) > 8 else "center")
        ax.set_ylim(0, 105)
        ax.set_ylabel(t("chart.rate_axis"))
        if len(monthly) <= 24:  # beyond that the labels would collide
            for i, rate in enumerate(monthly["rate"]):
                ax.annotate(format_number(100 * rate, lang, 0) + "%", (i, 100 * rate), ha="center",
                            va="bottom", fontsize=7, xytext=(0, 1), textcoords="offset points")
        ax.set_title(t("chart.by_month"), loc="left", fontsize=10)
        return figure_svg(fig)


def findings_by_kind(counts: dict, t: Translator, lang: str) -> str | None:
    """Horizontal bars: findings per kind (only kinds that occur)."""
    kinds = [k for k in ALL_KINDS if counts.get(k, 0)]
    if not kinds:
        return None
    with matplotlib.rc_context(CHART_STYLE):
        fig = new_figure(5.2, 0.5 + 0.32 * len(kinds))
        ax = fig.add_subplot()
        y = range(len(kinds))
        values = [counts[k] for k in kinds]
        ax.barh(list(y), values, color=[KIND_COLORS[k] for k in kinds])
        ax.set_yticks(list(y), [t(f"kind.{k}") for k in kinds])
        ax.invert_yaxis()
        for i, v in enumerate(values):
            ax.annotate(format_number(v, lang), (v, i), va="center", fontsize=7, xytext=(3, 0),
                        textcoords="offset points")
        ax.set_xlabel(t("chart.findings_axis"))
        ax.set_title(t("chart.by_kind"), loc="left", fontsize=10)
        return figure_svg(fig)


def findings_by_step(table: pd.DataFrame, t: Translator, lang: str, top: int = 15) -> str | None:
    """Stacked horizontal bars: open findings per step (the `top` steps with most), by kind."""
    if table.empty:
        return None
    table = table.head(top)
    with matplotlib.rc_context(CHART_STYLE):
        fig = new_figure(6.4, 0.8 + 0.4 * len(table))
        ax = fig.add_subplot()
        y = list(range(len(table)))
        left = pd.Series(0, index=table.index)
        for kind in table.columns:
            ax.barh(y, table[kind], left=left, color=KIND_COLORS[kind], label=t(f"kind.{kind}"))
            left = left + table[kind]
        ax.set_yticks(y, [_short(s) for s in table.index])
        ax.invert_yaxis()
        ax.set_xlabel(t("chart.findings_axis"))
        ax.legend(fontsize=7, frameon=False, loc="lower right")
        ax.set_title(t("chart.by_step"), loc="left", fontsize=10)
        return figure_svg(fig)


def service_days(cases: pd.DataFrame, t: Translator, lang: str) -> str | None:
    """Histogram of the working days each case took against its service standard."""
    if "service_days" not in cases:
        return None
    days = pd.to_numeric(cases["service_days"], errors="coerce").dropna()
    if days.empty:
        return None
    limits = []
    if "service_limit_days" in cases:
        limits = sorted(pd.to_numeric(cases["service_limit_days"], errors="coerce").dropna().unique())[:4]
    with matplotlib.rc_context(CHART_STYLE):
        fig = new_figure(6.0, 2.6)
        ax = fig.add_subplot()
        top = float(max(days.max(), max(limits, default=0)))
        if (days % 1 == 0).all() and top <= 60:  # whole days: one bar per day
            counts = days.astype(int).value_counts().sort_index()
            ax.bar(counts.index, counts.to_numpy(), width=0.8, color=ACCENT)
            ax.xaxis.get_major_locator().set_params(integer=True)
        else:
            ax.hist(days, bins=40, range=(0, max(top, 1.0)), color=ACCENT)
        for lim in limits:
            ax.axvline(float(lim), color="#c53030", linestyle="--", linewidth=1.2)
            ax.annotate(t("chart.limit", value=format_number(lim, lang, 1 if lim % 1 else 0)),
                        (float(lim), 1), xycoords=("data", "axes fraction"), fontsize=7, color="#c53030",
                        xytext=(3, -10), textcoords="offset points")
        ax.set_xlabel(t("chart.working_days_axis"))
        ax.set_ylabel(t("chart.cases_axis"))
        ax.set_title(t("chart.service_days"), loc="left", fontsize=10)
        return figure_svg(fig)


def step_times(timing: pd.DataFrame, t: Translator, lang: str, names: dict[str, str] | None = None) -> str | None:
    """Median and p90 of each timed step as a share of its standard (100% = the limit); steps are
    labelled with `names` (step id -> name)."""
    need = {"step", "measure", "median", "p90", "limit"}
    if timing.empty or not need <= set(timing.columns):
        return None
    # Only steps with a standard and at least one measurement (no bar is not the same as zero).
    rows = timing[(pd.to_numeric(timing["limit"], errors="coerce") > 0)
                  & pd.to_numeric(timing["median"], errors="coerce").notna()].copy()
    if rows.empty:
        return None
    rows["m"] = 100 * pd.to_numeric(rows["median"], errors="coerce") / rows["limit"].astype(float)
    rows["p"] = 100 * pd.to_numeric(rows["p90"], errors="coerce") / rows["limit"].astype(float)
    names = names or {}
    labels = [_short(f"{names.get(s, s)} ({t('measure.' + str(m)) if t.has('measure.' + str(m)) else m})")
              for s, m in zip(rows["step"], rows["measure"], strict=True)]
    with matplotlib.rc_context(CHART_STYLE):
        fig = new_figure(6.4, 0.9 + 0.45 * len(rows))
        ax = fig.add_subplot()
        y = list(range(len(rows)))
        ax.barh([v - 0.18 for v in y], rows["m"].fillna(0), height=0.34, color=ACCENT, label=t("median"))
        ax.barh([v + 0.18 for v in y], rows["p"].fillna(0), height=0.34, color="#90cdf4", label="p90")
        ax.axvline(100, color="#c53030", linestyle="--", linewidth=1.2)
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.set_xlabel(t("chart.share_of_standard_axis"))
        ax.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
        ax.set_title(t("chart.step_times"), loc="left", fontsize=10, pad=18)
        return figure_svg(fig)
