"""findings.xlsx: the audit as a workbook an auditor filters and annotates.

Sheets: summary, findings (one row per finding, with its evidence), cases, steps, time
measurements (when measured), variants, data quality, accepted deviations. Every sheet has a
styled, frozen header row with an autofilter and column widths fitted to the content. Text from
the exports is neutralised against formula injection (see safety.py) and written as text. The
workbook is streamed (openpyxl write-only mode), so large audits fit in memory; a sheet holds at
most Excel's 1,048,575 data rows and the summary says when a list was cut (the CSV files have
every row).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from sopaudit.core.kinds import DEVIATING
from sopaudit.report import figures
from sopaudit.report.details import DetailWriter
from sopaudit.report.i18n import format_number, translator
from sopaudit.report.quality import quality_rows
from sopaudit.report.safety import xlsx_text
from sopaudit.report.values import open_cases_view, parameter_rows, phrase, with_code_labels

MAX_ROWS = 1_048_575  # Excel's rows per sheet, less the header
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="2B6CB0")
PERCENT = "0.0%"


def _label(col: str, t) -> str:
    return t(f"col.{col}") if t.has(f"col.{col}") else col


def _column_values(s: pd.Series) -> list:
    """One column as Python values a workbook can hold: local wall-clock times (Excel has no
    time zones), None for missing values, neutralised text."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return [None if pd.isna(v) else v.to_pydatetime() for v in s]
    if pd.api.types.is_bool_dtype(s.dtype) and not s.hasnans:
        return s.astype(bool).tolist()
    if pd.api.types.is_numeric_dtype(s.dtype):
        arr = s.astype("float64").to_numpy() if s.hasnans else s.to_numpy()
        if arr.dtype.kind == "f":
            return [None if np.isnan(v) else float(v) for v in arr]
        return arr.tolist()
    out = []
    for v in s.astype(object):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif isinstance(v, str):
            out.append(xlsx_text(v))
        elif isinstance(v, bool | int | float | dt.datetime | dt.date):
            out.append(v)
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(xlsx_text(str(v)))
    return out


def _width(label: str, values: list) -> float:
    sample = [len(str(v)) for v in values[:500] if v is not None]
    longest = max([len(label), *sample]) if sample else len(label)
    return float(min(60, max(8, longest + 2)))


def _sheet(wb: Workbook, title: str, df: pd.DataFrame, t, percent: tuple[str, ...] = (),
           percent_rows: frozenset[int] = frozenset()) -> int:
    """Write one table as a sheet; returns the number of data rows written (capped).

    Columns named in `percent`, and the last column of the rows in `percent_rows`, are shares
    shown as percentages."""
    ws = wb.create_sheet(title[:31])
    df = df.iloc[:MAX_ROWS]
    labels = [_label(str(c), t) for c in df.columns]
    columns = [_column_values(df[c]) for c in df.columns]
    for i, (label, values) in enumerate(zip(labels, columns, strict=True), start=1):
        ws.column_dimensions[get_column_letter(i)].width = _width(label, values)
    ws.freeze_panes = "A2"
    header = []
    for label in labels:
        cell = WriteOnlyCell(ws, xlsx_text(label))
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    ws.append(header)
    pct_at = {i for i, c in enumerate(df.columns) if c in percent}
    for r, row in enumerate(zip(*columns, strict=True) if columns else ()):
        at = pct_at | ({len(columns) - 1} if r in percent_rows else set())
        if at:
            row = list(row)
            for i in at:
                cell = WriteOnlyCell(ws, row[i])
                cell.number_format = PERCENT
                row[i] = cell
        ws.append(row)
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{len(df) + 1}"
    return len(df)


def findings_table(result, t, lang: str) -> pd.DataFrame:
    """One row per finding with its explanation in the report language and its evidence."""
    dev = result.deviations
    detail = DetailWriter(result.sop, t, lang)
    out = pd.DataFrame({
        "case_id": dev["case_id"],
        "kind_label": [t(f"kind.{k}") if t.has(f"kind.{k}") else k for k in dev["kind"]],
        "kind": dev["kind"],
        "step": dev["step"],
        "step_name": dev["step_name"],
        "detail": [detail(r) for r in dev.to_dict(orient="records")] if len(dev) else [],
        "event_row": dev["event_row"],
        "event_time": dev["event_time"],
        "resource": dev["resource"],
        "evidence_rows": dev.get("evidence_rows", ""),
    })
    for col in ("measured", "limit", "unit", "accepted", "accepted_reason", "evidence_incomplete", "variant_id"):
        if col in dev:
            out[col] = dev[col]
    return out


def _summary_rows(result, t, lang: str, cut: dict[str, tuple[int, int]]) -> pd.DataFrame:
    m, p = result.metrics, result.provenance
    h = result.sop.header
    span = figures.period(result.cases)
    svc = figures.service_standard(result.cases)
    defs = figures.definitions(result, t, num=lambda v: format_number(v, lang),
                               dec=lambda v, digits=3: format_number(v, lang, digits))
    rows: list[tuple[str, object]] = [
        (t("sop_ref"), f"{h.code} — {h.title}"),
        (t("version"), h.version),
        (t("xlsx.first_event"), span[0].tz_localize(None).to_pydatetime() if span else None),
        (t("xlsx.last_event"), span[1].tz_localize(None).to_pydatetime() if span else None),
        (t("cases"), m["cases"]),
        (t("events"), m["events"]),
        (t("variants"), m["variants"]),
        (t("xlsx.finished_cases"), m.get("finished_cases")),
        (t("conforming_cases"), m["conforming_cases"]),
        (t("conformance_rate"), m["case_conformance_rate"]),
        (_defined(t("conformance_rate"), t), defs["case_conformance_rate"]),
        (t("incomplete_cases"), m.get("incomplete_cases")),
        (t("service_share"), svc["share_within"] if svc else None),
        (t("xlsx.service_measured"), svc["cases_measured"] if svc else None),
        (t("fitness"), round(figures.fitness_shown(result), 3)),
        (_defined(t("fitness"), t), defs["fitness"]),
        (t("deviations"), m["deviations"]),
        (_defined(t("deviations"), t), defs["deviations"]),
    ]
    # the breakdown sums to the findings: deviating kinds only (not-finished cases are counted above)
    rows += [(f"{t('deviations')}: {t('kind.' + k)}", m["deviations_by_kind"].get(k, 0)) for k in DEVIATING]
    rows += [(f"{t('share_cases')}: {t('kind.' + k)}", m["case_rate_by_kind"].get(k, 0.0)) for k in DEVIATING]
    rows.append((_defined(t("share_cases"), t), defs["case_rate_by_kind"]))
    rows += [
        (t("xlsx.accepted_findings"), m.get("accepted_deviations", 0)),
        (t("rows_rejected"), len(result.rejected)),
        (t("tool_version"), f"sopaudit {p.get('tool_version', '')}"),
        (t("run_at"), p.get("run_at", "")),
    ]
    rows += [(f"{t('input_files')} ({t('input.' + f['role']) if t.has('input.' + f['role']) else f['role']})",
              f"{f['path']} SHA-256 {f['sha256']}") for f in p.get("inputs", [])]
    rows += [(f"{t('parameter')}: {k}", v) for k, v in parameter_rows(p.get("parameters") or {}, t, lang)]
    opened = open_cases_view(p.get("parameters") or {}, t, lang)
    if opened:
        rows.append((t("open.title") if t.has("open.title") else t("parameter"), opened["text"]))
        rows += [(label, n) for label, n in opened["counts"]]
    for sheet, (written, total) in cut.items():
        rows.append((t("xlsx.cut", sheet=sheet), t("xlsx.cut_text", written=written, total=total)))
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})


def _defined(label: str, t) -> str:
    return f"{label}: {t('xlsx.definition')}"


def _share_rows(summary: pd.DataFrame, t) -> frozenset[int]:
    shares = {t("conformance_rate"), t("service_share")}
    share_of = f"{t('share_cases')}: "
    return frozenset(i for i, item in enumerate(summary["item"])
                     if item in shares or (item.startswith(share_of) and not item.endswith(t("xlsx.definition"))))


def write_xlsx(result, path: str | Path, lang: str = "id") -> Path:
    """Write findings.xlsx for an audit; returns its path."""
    t = translator(lang)
    path = Path(path)
    tables = [
        ("findings", with_code_labels(findings_table(result, t, lang), t), ()),
        ("cases", with_code_labels(result.cases, t), ()),
        ("steps", result.steps, ()),
    ]
    if not result.timing.empty:
        tables.append(("timing", with_code_labels(result.timing, t), ("share_within",)))
    tables.append(("variants", result.variants, ()))
    quality = pd.DataFrame(quality_rows(result, t, lang), columns=["entry", "item", "value"]).astype({"value": object})
    rejected = (pd.DataFrame([(row, phrase(str(why), t)) for row, why in result.rejected], columns=["row", "reason"])
                if result.rejected else None)
    accepted = result.accepted if not result.accepted.empty else pd.DataFrame({"note": [t("no_accepted")]})

    cut = {t(f"sheet.{name}"): (MAX_ROWS, len(df)) for name, df, _ in tables if len(df) > MAX_ROWS}
    wb = Workbook(write_only=True)
    summary = _summary_rows(result, t, lang, cut)
    _sheet(wb, t("sheet.summary"), summary, t, percent_rows=_share_rows(summary, t))
    for name, df, pct in tables:
        _sheet(wb, t(f"sheet.{name}"), df, t, percent=pct)
    if quality.empty:
        quality = pd.DataFrame({"note": [t("no_quality")]})
    _sheet(wb, t("sheet.quality"), quality, t)
    if rejected is not None:
        _sheet(wb, t("sheet.rejected"), rejected, t)
    _sheet(wb, t("sheet.accepted"), accepted, t)
    wb.save(path)
    return path
