"""findings.xlsx: the audit as a workbook an auditor filters and annotates.

Sheets: summary, findings (one row per finding, with its evidence), cases, steps, time
measurements (when measured), variants, data quality, accepted deviations. Every sheet has a
styled, frozen header row with an autofilter and column widths fitted to the content. Text from
the exports is neutralised against formula injection (see safety.py) and written as text.

The workbook is streamed (xlsxwriter's constant-memory mode: each row goes to disk as it is
written), column by column converted once, so its cost grows with the cells written and its
memory does not. A sheet holds at most Excel's 1,048,575 data rows; the cases sheet holds every
case up to CASE_ROWS cases and, beyond that, the cases that are not conforming (first CASE_ROWS
of them). The summary sheet says when a list was cut; the CSV files have every row.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.utility import xl_col_to_name

from sopaudit.core.kinds import DEVIATING
from sopaudit.report import figures
from sopaudit.report.details import DetailWriter
from sopaudit.report.i18n import format_number, translator
from sopaudit.report.quality import quality_rows
from sopaudit.report.safety import xlsx_text, xlsx_texts
from sopaudit.report.values import (
    labelled,
    open_cases_view,
    parameter_rows,
    phrase,
    with_code_labels,
)
from sopaudit.report.xlsx_rows import AVAILABLE, RowsWorksheet, column_tails, write_rows

MAX_ROWS = 1_048_575  # Excel's rows per sheet, less the header
CASE_ROWS = 50_000  # cases in the workbook; beyond this only the non-conforming ones (cases.csv has all)
HEADER = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#2B6CB0", "pattern": 1, "text_wrap": True,
          "valign": "top"}
PERCENT = "0.0%"
DATETIME = "yyyy-mm-dd hh:mm:ss"
ZIP_LEVEL = 2  # zlib's fast level: a workbook about a quarter larger, zipped in a third of the time
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ns")
_NS_PER_DAY = 86_400 * 10**9


def _label(col: str, t) -> str:
    return t(f"col.{col}") if t.has(f"col.{col}") else col


def _cell(v):
    """One value of a text or mixed column as a workbook holds it (None: leave the cell empty)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        return xlsx_text(v)
    if isinstance(v, bool | int | float | dt.datetime | dt.date):
        return v
    return xlsx_text(str(v))


def _codes(s: pd.Series) -> tuple[np.ndarray, list, str]:
    """One column as codes into its distinct values (-1: leave the cell empty), the values as a
    workbook holds them and how to write them: 'n' numbers, 'd' times (Excel serial days of the
    local wall-clock time: Excel has no time zones), 'b' booleans, 't' text, 'm' mixed."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        ns = s.to_numpy("datetime64[ns]")
        codes, uniques = pd.factorize((ns - _EXCEL_EPOCH).astype("int64") / _NS_PER_DAY)
        return np.where(np.isnat(ns), -1, codes), uniques.tolist(), "d"
    if pd.api.types.is_bool_dtype(s.dtype):
        missing = s.isna().to_numpy()
        truth = s.astype(object).where(~missing, False).astype(bool).to_numpy()
        return np.where(missing, -1, truth.astype(np.int64)), [False, True], "b"
    if pd.api.types.is_numeric_dtype(s.dtype):
        arr = s.to_numpy("float64", na_value=np.nan)
        finite = np.isfinite(arr)
        vals = s.to_numpy("int64", na_value=0) if s.dtype.kind in "iu" else arr
        codes, uniques = pd.factorize(vals)
        return np.where(finite, codes, -1), uniques.tolist(), "n"
    if isinstance(s.dtype, pd.StringDtype):  # text only: its distinct values fixed at once by Arrow
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        return codes, xlsx_texts(pa.array(uniques, pa.string())).to_pylist(), "t"
    if isinstance(s.dtype, pd.CategoricalDtype) and all(isinstance(c, str) for c in s.cat.categories):
        return s.cat.codes.to_numpy(np.int64), xlsx_texts(pa.array(s.cat.categories, pa.string())).to_pylist(), "t"
    # Other values: converted once per distinct value (case ids repeat over findings, kinds and steps a lot).
    codes, uniques = pd.factorize(s.astype(object), use_na_sentinel=True)
    fixed = [_cell(v) for v in uniques]
    kind = "t" if all(v is None or isinstance(v, str) for v in fixed) else "m"
    empty = [i for i, v in enumerate(fixed) if v is None]
    if empty:
        codes = np.where(np.isin(codes, empty), -1, codes)
    return codes, fixed, kind


def _values(codes: np.ndarray, uniques: list) -> list:
    """The column as Python values (None: empty cell)."""
    table = [*uniques, None]  # code -1: missing
    return [table[c] for c in codes.tolist()]


def _width(label: str, values: list, kind: str) -> float:
    if kind == "d":
        longest = len(DATETIME)
    else:
        sample = [len(str(v)) for v in values[:500] if v is not None]
        longest = max(sample) if sample else 0
    return float(min(60, max(8, max(len(label), longest) + 2)))


class _Workbook(xlsxwriter.Workbook):
    """xlsxwriter's workbook, zipped at ZIP_LEVEL rather than zlib's default 6 (on a 150,000-case
    audit 0.08 s instead of 0.23 s for 3.8 MB instead of 3.0 MB). xlsxwriter has no setting for
    it: the ZipFile of its module is swapped while this workbook is stored (another workbook
    stored meanwhile is only zipped faster), and left alone by an xlsxwriter without it. Its
    sheets copy their rows file as bytes (xlsx_rows.RowsWorksheet)."""

    _lock = threading.Lock()
    worksheet_class = RowsWorksheet

    def _store_workbook(self) -> None:
        module = xlsxwriter.workbook
        if getattr(module, "ZipFile", None) is not zipfile.ZipFile:
            return super()._store_workbook()
        with self._lock:
            module.ZipFile = functools.partial(zipfile.ZipFile, compresslevel=ZIP_LEVEL)
            try:
                return super()._store_workbook()
            finally:
                module.ZipFile = zipfile.ZipFile


class _Book:
    """An xlsxwriter workbook streamed to disk, with the formats every sheet shares."""

    def __init__(self, path: Path):
        self.wb = _Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                                  "strings_to_urls": False, "strings_to_numbers": False})
        self.header = self.wb.add_format(HEADER)
        self.percent = self.wb.add_format({"num_format": PERCENT})
        self.time = self.wb.add_format({"num_format": DATETIME})

    def sheet(self, title: str, df: pd.DataFrame, t, percent: tuple[str, ...] = (),
              percent_rows: frozenset[int] = frozenset()) -> int:
        """Write one table as a sheet; returns the number of data rows written (capped).

        Columns named in `percent`, and the last column of the rows in `percent_rows`, are shares
        shown as percentages."""
        ws = self.wb.add_worksheet(title[:31])
        if len(df) > MAX_ROWS:
            df = df.iloc[:MAX_ROWS]
        labels = [xlsx_text(_label(str(c), t)) for c in df.columns]
        columns = [_codes(df[c]) for c in df.columns]
        for i, (label, (codes, uniques, kind)) in enumerate(zip(labels, columns, strict=True)):
            ws.set_column(i, i, _width(label, _values(codes[:500], uniques), kind))
        ws.freeze_panes(1, 0)
        for i, label in enumerate(labels):
            ws.write_string(0, i, label, self.header)
        last = len(columns) - 1
        formats = [self.time if kind == "d" else self.percent if df.columns[i] in percent else None
                   for i, (_, _, kind) in enumerate(columns)]
        if AVAILABLE and len(df) and not percent_rows and all(kind != "m" for _, _, kind in columns):
            self._rows_at_once(ws, columns, formats)
        else:
            self._rows_by_cell(ws, columns, formats, percent_rows)
        if len(df.columns):
            ws.autofilter(f"A1:{xl_col_to_name(last)}{len(df) + 1}")
        return len(df)

    @staticmethod
    def _rows_at_once(ws, columns: list, formats: list) -> None:
        """The data rows as one block of XML (xlsx_rows.py): the same bytes xlsxwriter writes."""
        ws._write_single_row(1)  # the header row goes out; xlsxwriter now awaits row 1
        # xlsxwriter numbers a format when a cell first uses it: number them in that order
        first = {i: int(np.argmax(codes >= 0)) for i, (codes, _, _) in enumerate(columns)
                 if formats[i] is not None and (codes >= 0).any()}
        for i in sorted(first, key=lambda i: (first[i], i)):
            formats[i]._get_xf_index()
        # a column without any value has no cell: its format stays unnumbered, as cell by cell
        tails = [column_tails(codes, uniques, kind, formats[i]._get_xf_index() if i in first else None)
                 for i, (codes, uniques, kind) in enumerate(columns)]
        last = write_rows(ws.fh, tails, first_row=1)
        if last >= 0:
            ws._check_dimensions(last, len(columns) - 1)  # the <dimension> of the sheet
            ws.previous_row = last + 1  # rows before this one are written

    def _rows_by_cell(self, ws, columns: list, formats: list, percent_rows: frozenset[int]) -> None:
        last = len(columns) - 1
        write = {"n": ws.write_number, "d": ws.write_number, "b": ws.write_boolean, "t": ws.write_string,
                 "m": self._mixed(ws)}
        plan = [(i, _values(codes, uniques), write[kind], fmt)
                for i, ((codes, uniques, kind), fmt) in enumerate(zip(columns, formats, strict=True))]
        plan_pct = [(i, values, w, self.percent if i == last else f) for i, values, w, f in plan]
        n = len(columns[0][0]) if columns else 0
        for r in range(n):
            row = r + 1
            for i, values, w, fmt in (plan_pct if r in percent_rows else plan):
                v = values[r]
                if v is not None:
                    w(row, i, v, fmt)

    def _mixed(self, ws):
        def write(row: int, col: int, v, fmt=None) -> None:
            if isinstance(v, str):
                ws.write_string(row, col, v, fmt)
            elif isinstance(v, bool):
                ws.write_boolean(row, col, v, fmt)
            elif isinstance(v, dt.date):
                ws.write_datetime(row, col, v, fmt or self.time)
            else:
                ws.write_number(row, col, v, fmt)
        return write

    def close(self) -> None:
        self.wb.close()


def findings_table(result, t, lang: str) -> pd.DataFrame:
    """One row per finding with its explanation in the report language and its evidence."""
    dev = result.deviations
    detail = DetailWriter(result.sop, t, lang)
    out = pd.DataFrame({
        "case_id": dev["case_id"],
        "kind_label": labelled(dev["kind"], lambda k: t(f"kind.{k}") if t.has(f"kind.{k}") else k),
        "kind": dev["kind"],
        "step": dev["step"],
        "step_name": dev["step_name"],
        "detail": detail.categorical(dev),
        "event_row": dev["event_row"],
        "event_time": dev["event_time"],
        "resource": dev["resource"],
        "evidence_rows": dev.get("evidence_rows", ""),
    })
    for col in ("measured", "limit", "unit", "accepted", "accepted_reason", "evidence_incomplete", "variant_id"):
        if col in dev:
            out[col] = dev[col]
    return out


def _summary_rows(result, t, lang: str, cut: dict[str, str]) -> pd.DataFrame:
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
    rows += [(t("xlsx.cut", sheet=sheet), text) for sheet, text in cut.items()]
    return pd.DataFrame(rows, columns=["item", "value"]).astype({"value": object})


def _defined(label: str, t) -> str:
    return f"{label}: {t('xlsx.definition')}"


def _share_rows(summary: pd.DataFrame, t) -> frozenset[int]:
    shares = {t("conformance_rate"), t("service_share")}
    share_of = f"{t('share_cases')}: "
    return frozenset(i for i, item in enumerate(summary["item"])
                     if item in shares or (item.startswith(share_of) and not item.endswith(t("xlsx.definition"))))


def _cases_shown(cases: pd.DataFrame, t) -> tuple[pd.DataFrame, dict[str, str]]:
    """The cases sheet: every case up to CASE_ROWS; beyond that the first CASE_ROWS cases that are
    not conforming (what an auditor opens), with the summary line that says so."""
    if len(cases) <= CASE_ROWS:
        return cases, {}
    deviating = cases[~cases["conforming"].astype(bool)]
    shown = deviating.iloc[:CASE_ROWS]
    text = t("xlsx.cases_cut_text", written=len(shown), deviating=len(deviating), total=len(cases))
    return shown, {t("sheet.cases"): text}


def write_xlsx(result, path: str | Path, lang: str = "id") -> Path:
    """Write findings.xlsx for an audit; returns its path."""
    t = translator(lang)
    path = Path(path)
    cases, cut = _cases_shown(result.cases, t)
    tables = [
        ("findings", with_code_labels(findings_table(result, t, lang), t), ()),
        ("cases", with_code_labels(cases, t), ()),
        ("steps", result.steps, ()),
    ]
    if not result.timing.empty:
        tables.append(("timing", with_code_labels(result.timing, t), ("share_within",)))
    tables.append(("variants", result.variants, ()))
    quality = pd.DataFrame(quality_rows(result, t, lang), columns=["entry", "item", "value"]).astype({"value": object})
    rejected = (pd.DataFrame([(row, phrase(str(why), t)) for row, why in result.rejected], columns=["row", "reason"])
                if result.rejected else None)
    accepted = result.accepted if not result.accepted.empty else pd.DataFrame({"note": [t("no_accepted")]})

    cut |= {t(f"sheet.{name}"): t("xlsx.cut_text", written=MAX_ROWS, total=len(df))
            for name, df, _ in tables if len(df) > MAX_ROWS}
    book = _Book(path)
    summary = _summary_rows(result, t, lang, cut)
    book.sheet(t("sheet.summary"), summary, t, percent_rows=_share_rows(summary, t))
    for name, df, pct in tables:
        book.sheet(t(f"sheet.{name}"), df, t, percent=pct)
    if quality.empty:
        quality = pd.DataFrame({"note": [t("no_quality")]})
    book.sheet(t("sheet.quality"), quality, t)
    if rejected is not None:
        book.sheet(t("sheet.rejected"), rejected, t)
    book.sheet(t("sheet.accepted"), accepted, t)
    book.close()
    return path
