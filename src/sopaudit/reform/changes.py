"""`compare(before, after)`: what changed between two audits, and whether it is more than chance.

One row per measure in `Comparison.changes`, with the test used, the raw and the Holm-adjusted
p-value, and `significant` at the chosen level after the correction (stats.py says which tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from sopaudit.analysis import stats
from sopaudit.analysis.measures import rate_counts, service_days
from sopaudit.analysis.segments import segment_table
from sopaudit.reform.trend import monthly_trend

CHANGE_COLUMNS = ["metric", "kind", "step", "before", "after", "change", "ci_low", "ci_high", "p_value",
                  "p_adjusted", "significant", "count_before", "n_before", "count_after", "n_after", "test"]


@dataclass
class Comparison:
    """The outcome of `sopaudit.compare`: changes per measure, segments, trend and indicators."""

    changes: pd.DataFrame
    trend: pd.DataFrame
    segments: pd.DataFrame
    indicators: pd.DataFrame
    before: object  # the AuditResult of the period before
    after: object
    labels: tuple[str, str] = ("before", "after")
    reform_date: str = ""
    parameters: dict = field(default_factory=dict)

    def significant(self) -> pd.DataFrame:
        """The measures that changed more than chance explains (after the correction)."""
        return self.changes[self.changes["significant"]].reset_index(drop=True)

    def write(self, out_dir, lang: str = "id") -> dict:
        """Write comparison.html, comparison.xlsx and comparison.json into `out_dir`."""
        from sopaudit.reform.write import write_comparison

        return write_comparison(self, out_dir, lang=lang)

    def _repr_html_(self) -> str:
        """The significant changes and the notable segments, for a notebook cell."""
        import html

        sig = self.significant()
        rows = "".join(f"<tr><td>{html.escape(r.metric)}</td><td>{html.escape(r.kind or r.step)}</td>"
                       f"<td>{r.before:.3f}</td><td>{r.after:.3f}</td><td>{r.p_adjusted:.2g}</td></tr>"
                       for r in sig.itertuples())
        seg = self.segments[self.segments["notable"]] if len(self.segments) else self.segments
        segs = "".join(f"<li>{html.escape(str(s.period))}: {html.escape(s.attribute)} = {html.escape(s.value)}, "
                       f"{html.escape(s.kind)}: {s.share_of_findings:.0%} of findings, {s.share_of_cases:.0%} of cases"
                       f"</li>" for s in seg.itertuples() if s.kind != "any")
        return (f"<h4>{html.escape(self.labels[0])} → {html.escape(self.labels[1])}: {len(sig)} of "
                f"{len(self.changes)} measures changed more than chance (Holm, alpha "
                f"{self.parameters.get('alpha')})</h4><table><thead><tr><th>metric</th><th>kind/step</th>"
                f"<th>before</th><th>after</th><th>p adjusted</th></tr></thead><tbody>{rows}</tbody></table>"
                f"<ul>{segs}</ul>")

    def __repr__(self) -> str:
        sig = int(self.changes["significant"].sum())
        return (f"<Comparison {self.labels[0]} -> {self.labels[1]}: {len(self.changes)} measures, "
                f"{sig} significant changes>")


def compare(before, after, *, alpha: float = 0.05, segments_by: tuple[str, ...] = (),
            labels: tuple[str, str] = ("before", "after"), reform_date: str | None = None) -> Comparison:
    """Compare two audits of the same service (before and after a reform).

    `segments_by` names case or event attributes (e.g. "org:resource", "kanal", "month") whose
    breakdown is computed on both audits; `reform_date` marks the trend (default: the first
    case start of the audit after)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    rows = _rate_rows(before, after, alpha) + [_time_row(before, after, alpha)]
    changes = pd.DataFrame(rows)
    changes["p_adjusted"], changes["significant"] = stats.adjust(changes["p_value"].tolist(), alpha)
    changes = changes[CHANGE_COLUMNS]
    if reform_date is None:
        start = pd.to_datetime(after.cases["start"], utc=True).min()
        reform_date = "" if pd.isna(start) else str(start.date())
    seg = pd.concat([segment_table(before, segments_by).assign(period=labels[0]),
                     segment_table(after, segments_by).assign(period=labels[1])], ignore_index=True)
    trend = pd.concat([monthly_trend(before).assign(period=labels[0]),
                       monthly_trend(after).assign(period=labels[1])], ignore_index=True)
    from sopaudit.reform.indicators import indicator_sheet

    indicators = indicator_sheet(before, after, labels)
    params = {"alpha": alpha, "correction": stats.CORRECTION, "rate_test": stats.RATE_TEST,
              "time_test": stats.TIME_TEST, "bootstrap_resamples": stats.BOOTSTRAP_RESAMPLES,
              "bootstrap_seed": stats.BOOTSTRAP_SEED, "segments_by": list(segments_by)}
    return Comparison(changes, trend, seg, indicators, before, after, labels, reform_date, params)


def _rate_rows(before, after, alpha: float) -> list[dict]:
    a = {(r["metric"], r["kind"], r["step"]): r for r in rate_counts(before)}
    b = {(r["metric"], r["kind"], r["step"]): r for r in rate_counts(after)}
    rows = []
    for key in list(a) + [k for k in b if k not in a]:
        ra, rb = a.get(key, {"count": 0, "n": 0}), b.get(key, {"count": 0, "n": 0})
        if not ra["count"] and not rb["count"]:
            continue  # nothing of it in either period: no information, and no comparison for Holm
        res = stats.rate_change(ra["count"], ra["n"], rb["count"], rb["n"], alpha)
        rows.append({"metric": key[0], "kind": key[1], "step": key[2], **res})
    return rows


def _time_row(before, after, alpha: float) -> dict:
    res = stats.median_change(service_days(before), service_days(after), alpha)
    if math.isnan(res["before"]) and math.isnan(res["after"]):
        res["test"] = "no service times measured"
    return {"metric": "median_service_days", "kind": "", "step": "", **res}
