"""AuditResult: the tables of one audit, and the way to one case's evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sopaudit.core.columns import CASE
from sopaudit.sop.model import SOP


@dataclass(frozen=True)
class CaseView:
    """Everything about one application: its summary row, events and findings."""

    case_id: str
    summary: pd.Series
    events: pd.DataFrame
    deviations: pd.DataFrame

    def _repr_html_(self) -> str:
        return (
            f"<h4>Case {self.case_id}</h4>"
            + self.summary.to_frame().T.to_html(index=False)
            + "<h5>Events</h5>" + self.events.to_html(index=False)
            + "<h5>Findings</h5>" + self.deviations.to_html(index=False)
        )


@dataclass
class AuditResult:
    """The outcome of `sopaudit.audit`: one table per subject, plus metrics and provenance."""

    cases: pd.DataFrame
    deviations: pd.DataFrame
    steps: pd.DataFrame
    variants: pd.DataFrame
    metrics: dict
    provenance: dict
    log: pd.DataFrame
    sop: SOP
    rejected: list = field(default_factory=list)
    # Per SOP step and measure (duration / wait): n, median, p90, share within the standard.
    timing: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Data-quality report of the ingest (LogInfo.quality), shown in the report.
    quality: dict = field(default_factory=dict)
    # Accepted-deviation entries with how many findings each matched (unused entries too).
    accepted: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Per case and service standard: measured and allowed working days, within or not.
    service: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Per SOP step: how many events the role check could check, and why not the others.
    role_coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Labels that do not meet the SOP (conform.labels.label_warnings): near matches, few matches.
    warnings: list = field(default_factory=list)
    # Findings by segment (case or event attribute) when asked for (analysis.segment_table).
    segments: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Per variant id: its steps in order (the variants table's `variant`, not joined into text),
    # from which the report's map counts its flows without going over the events again.
    variant_paths: dict = field(default_factory=dict)

    def case(self, case_id: str) -> CaseView:
        """The events and findings of one case, with the source row of every event."""
        case_id = str(case_id)
        row = self.cases[self.cases["case_id"] == case_id]
        if row.empty:
            raise KeyError(f"no case '{case_id}' in this audit")
        events = self.log[self.log[CASE].astype("string") == case_id].reset_index(drop=True)
        devs = self.deviations[self.deviations["case_id"] == case_id].reset_index(drop=True)
        return CaseView(case_id, row.iloc[0], events, devs)

    def __repr__(self) -> str:
        m = self.metrics
        return (f"<AuditResult {self.sop.header.code}: {m.get('cases', 0):,} cases, {m.get('deviations', 0):,} findings, "
                f"{m.get('case_conformance_rate', float('nan')):.1%} of finished cases conform>")

    def _repr_html_(self) -> str:
        """Headline numbers, the findings per kind and the SOP flowchart, for a notebook cell."""
        from sopaudit.report.notebook import result_html

        return result_html(self)

    def summary(self) -> dict:
        """The JSON-ready summary written to summary.json."""
        from sopaudit.report.summary import build_summary

        return build_summary(self)

    def write(self, out_dir: str | Path, formats=None, lang: str = "id") -> dict[str, Path]:
        """Write the report files into `out_dir` (all formats unless `formats` names some:
        html, xlsx, csv, json); returns the path of each file written."""
        from sopaudit.report import write_report

        return write_report(self, out_dir, formats=formats, lang=lang)
