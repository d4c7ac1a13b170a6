"""Charts of the report, returned as SVG text to inline in the HTML: the audit's charts are
written by `svgchart` (plain SVG, no matplotlib on an audit's path); the trend charts of
`sopaudit history` and of a reform evaluation, which may also be PNG files, are drawn with
matplotlib through `new_figure` and `figure_svg` (imported when first used).

Deterministic. Each chart function returns None when there is nothing to draw; the report then
says so in words.
"""

from __future__ import annotations

import io
import re
import textwrap

import numpy as np
import pandas as pd

from sopaudit.core.kinds import ALL_KINDS
from sopaudit.report.i18n import Translator, format_month, format_number
from sopaudit.report.svgchart import Series, hbars, vbars

KIND_COLORS = {
    "skipped": "#c53030", "out_of_order": "#b7791f", "repeated": "#2c7a7b", "unexpected": "#6b46c1",
    "wrong_branch": "#d53f8c", "late_step": "#dd6b20", "late_case": "#9c4221", "wrong_role": "#2b6cb0",
    "duty_conflict": "#553c9a", "rule": "#4a5568", "incomplete": "#a0aec0",
}
ACCENT = "#2b6cb0"
# matplotlib settings of the trend charts: a fixed `svg.hashsalt`, text kept as SVG text (small,
# searchable, escaped by matplotlib's XML writer), math-text parsing off (a label such as `$x$`
# from an export is drawn as written).
CHART_STYLE = {
    "svg.hashsalt": "sopaudit",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.family": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def figure_svg(fig) -> str:
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(CHART_STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    text = buf.getvalue()
    # Inline SVG needs no XML prolog, DOCTYPE, RDF metadata (its namespaces are URLs) or the
    # comment that names matplotlib's version.
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    return re.sub(r"<!-- Created with matplotlib.*?-->\n?", "", text)


def new_figure(width: float, height: float):
    import matplotlib
    from matplotlib.figure import Figure

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
    rates = [100 * float(r) for r in monthly["rate"]]
    shown = len(monthly) <= 24  # beyond that the value labels would collide
    return vbars(t("chart.by_month"), [format_month(m, lang) for m in monthly["month"]], rates, ACCENT,
                 y_label=t("chart.rate_axis"), y_max=105, rotate=len(monthly) > 8,
                 value_labels=[format_number(r, lang, 0) + "%" for r in rates] if shown else None,
                 fmt=lambda v: format_number(v, lang))


def findings_by_kind(counts: dict, t: Translator, lang: str) -> str | None:
    """Horizontal bars: findings per kind (only kinds that occur)."""
    kinds = [k for k in ALL_KINDS if counts.get(k, 0)]
    if not kinds:
        return None
    values = [counts[k] for k in kinds]
    return hbars(t("chart.by_kind"), [t(f"kind.{k}") for k in kinds],
                 [Series(values, [KIND_COLORS[k] for k in kinds])], x_label=t("chart.findings_axis"),
                 value_labels=[format_number(v, lang) for v in values], fmt=lambda v: format_number(v, lang),
                 width=480)


def findings_by_step(table: pd.DataFrame, t: Translator, lang: str, top: int = 15) -> str | None:
    """Stacked horizontal bars: open findings per step (the `top` steps with most), by kind."""
    if table.empty:
        return None
    table = table.head(top)
    series = [Series([float(v) for v in table[kind]], KIND_COLORS[kind], t(f"kind.{kind}"))
              for kind in table.columns]
    return hbars(t("chart.by_step"), [_short(s) for s in table.index], series, x_label=t("chart.findings_axis"),
                 stacked=True, legend=True, fmt=lambda v: format_number(v, lang), width=600)


def service_days(cases: pd.DataFrame, t: Translator, lang: str) -> str | None:
    """Bars of the working days each case took (one per day, or 40 bins) against its service
    standard (dashed lines)."""
    if "service_days" not in cases:
        return None
    days = pd.to_numeric(cases["service_days"], errors="coerce").dropna()
    if days.empty:
        return None
    limits = []
    if "service_limit_days" in cases:
        limits = sorted(pd.to_numeric(cases["service_limit_days"], errors="coerce").dropna().unique())[:4]
    top = float(max(days.max(), max(limits, default=0)))
    if (days % 1 == 0).all() and top <= 60:  # whole days: one bar per day
        counts = days.astype(int).value_counts().sort_index()
        positions, values, width, span = [float(d) for d in counts.index], counts.tolist(), 0.8, (-1.0, top + 1)
    else:
        counts, edges = np.histogram(days.to_numpy(), bins=40, range=(0, max(top, 1.0)))
        positions = [float(a + b) / 2 for a, b in zip(edges[:-1], edges[1:], strict=True)]
        values, width, span = counts.tolist(), float(edges[1]), (0.0, float(edges[-1]))
    step = max(1, round(span[1] / 8))
    ticks = [(float(d), format_number(d, lang)) for d in range(0, int(span[1]) + 1, step)]
    refs = [(float(lim), t("chart.limit", value=format_number(lim, lang, 1 if lim % 1 else 0))) for lim in limits]
    return vbars(t("chart.service_days"), [], values, ACCENT, y_label=t("chart.cases_axis"),
                 x_label=t("chart.working_days_axis"), positions=positions, bar_width=width, x_ticks=ticks,
                 x_range=span, ref_lines=refs, fmt=lambda v: format_number(v, lang), width=520)


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
    series = [Series(rows["m"].fillna(0).tolist(), ACCENT, t("median"), offset=-0.19, height=0.36),
              Series(rows["p"].fillna(0).tolist(), "#90cdf4", "p90", offset=0.19, height=0.36)]
    return hbars(t("chart.step_times"), labels, series, x_label=t("chart.share_of_standard_axis"), legend=True,
                 ref_line=100.0, fmt=lambda v: format_number(v, lang), row=36.0, width=600)
