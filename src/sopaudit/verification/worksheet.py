"""The verification worksheet (XLSX): written for the auditor, read back after the paper check.

Sheets, in this order: the sample (one row per item, with empty verdict, comment and paper-file
columns; the verdict has a drop-down), the evidence rows of each item's case, the strata
(population and items drawn) and how the sample was drawn (seed, sizes, source). Labels come
from the report catalogs (Bahasa Indonesia or English); reading accepts either language, and
verdicts typed as the codes (`confirmed`, `not_confirmed`, `cannot_tell`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from sopaudit.core.errors import InputFileError
from sopaudit.report.i18n import LANGS, catalog, translator
from sopaudit.report.safety import xlsx_text

# The worksheet's columns: what the sample holds per item and per evidence row.
ITEM_COLUMNS = ["item", "sample", "stratum", "kind", "case_id", "step", "step_name", "detail",
                "event_row", "evidence_rows", "event_time", "resource", "case_path"]
EVIDENCE_COLUMNS = ["item", "case_id", "row", "time", "activity", "step", "resource"]


VERDICTS = ("confirmed", "not_confirmed", "cannot_tell")
ENTRY_COLUMNS = ["verdict", "comment", "paper_ref"]
SAMPLE_COLUMNS = ITEM_COLUMNS + ENTRY_COLUMNS
STRATA_COLUMNS = ["stratum", "kind", "population", "sampled"]
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="2B6CB0")
ENTRY_FILL = PatternFill("solid", fgColor="FFF9DB")  # the columns the auditor fills


def _label(key: str, t) -> str:
    return t(f"verify.col.{key}")


def _write_table(ws, columns: list[str], rows: list[list], t, widths: dict[str, int] | None = None) -> None:
    ws.append([_label(c, t) for c in columns])
    for cell in ws[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in rows:
        ws.append([xlsx_text(v) if isinstance(v, str) else v for v in r])
    ws.freeze_panes = "A2"
    for i, c in enumerate(columns, start=1):
        longest = max([len(_label(c, t))] + [len(str(r[i - 1])) for r in rows[:300]])
        ws.column_dimensions[get_column_letter(i)].width = (widths or {}).get(c, min(50, max(8, longest + 2)))
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"


def write_worksheet(sample, path: str | Path, lang: str = "id") -> Path:
    """Write the worksheet of `sample` (a VerificationSample, which calls this from its `write`) to
    `path` (XLSX); returns the path."""
    t = translator(lang)
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = t("verify.sheet.sample")
    kinds = [t(f"kind.{k}") if t.has(f"kind.{k}") else k for k in sample.items["kind"]]
    rows = []
    for r, kind in zip(sample.items.to_dict(orient="records"), kinds, strict=True):
        r = dict(r, kind=kind if r["sample"] == "finding" else t("verify.conforming_case"),
                 sample=t(f"verify.sample.{r['sample']}"))
        rows.append([r[c] for c in ITEM_COLUMNS] + ["", "", ""])
    _write_table(ws, SAMPLE_COLUMNS, rows, t, widths={"verdict": 22, "comment": 40, "paper_ref": 24})
    choices = [t(f"verify.verdict.{v}") for v in VERDICTS]
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                        showErrorMessage=True, errorTitle=t("verify.col.verdict"),
                        error=t("verify.verdict_error", choices=", ".join(choices)))
    ws.add_data_validation(dv)
    first = SAMPLE_COLUMNS.index("verdict") + 1
    for i, _ in enumerate(ENTRY_COLUMNS):
        letter = get_column_letter(first + i)
        if rows:
            if i == 0:
                dv.add(f"{letter}2:{letter}{len(rows) + 1}")
            for (cell,) in ws.iter_rows(min_row=2, max_row=len(rows) + 1, min_col=first + i, max_col=first + i):
                cell.fill = ENTRY_FILL

    ev = wb.create_sheet(t("verify.sheet.evidence"))
    _write_table(ev, EVIDENCE_COLUMNS, sample.evidence[EVIDENCE_COLUMNS].astype(str).values.tolist(), t)
    st = wb.create_sheet(t("verify.sheet.strata"))
    strata = sample.strata.assign(kind=[t(f"kind.{k}") if t.has(f"kind.{k}") else t("verify.conforming_case")
                                        for k in sample.strata["kind"]])
    _write_table(st, STRATA_COLUMNS, strata[STRATA_COLUMNS].values.tolist(), t)
    about = wb.create_sheet(t("verify.sheet.about"))
    src = sample.source
    facts = [
        ("seed", sample.seed), ("size", sample.size),
        ("per_stratum", t("verify.yes") if sample.per_stratum else t("verify.no")),
        ("strata", ", ".join(("kind", *sample.by))), ("audit", src.get("folder", "")),
        ("sop", src.get("sop", "")), ("audit_run_at", src.get("run_at", "")), ("drawn_at", src.get("drawn_at", "")),
    ] + [(f"input_{f.get('role', '')}", f"{f.get('path', '')} SHA-256 {f.get('sha256', '')}")
         for f in src.get("inputs", [])]
    about.append([t("verify.col.item_about"), t("verify.col.value")])
    for cell in about[1]:
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
    for key, value in facts:
        about.append([key, xlsx_text(str(value)) if not isinstance(value, int) else value])
    about.append([])
    about.append([t("verify.instructions")])
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 24, 90
    wb.save(path)
    return path


def _reverse(prefix: str, keys) -> dict[str, str]:
    """Label (either language, case-insensitive) or key -> key."""
    out = {k.lower(): k for k in keys}
    for lang in LANGS:
        cat = catalog(lang)
        for k in keys:
            label = cat.get(f"{prefix}{k}")
            if label:
                out[label.strip().lower()] = k
    return out


def _read_sheet(ws, columns: list[str], path: Path, sheet: str) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    if not rows:
        raise InputFileError(f"{path}: sheet '{sheet}' is empty; is this a sopaudit verification worksheet?")
    names = _reverse("verify.col.", columns)
    header = [names.get(str(h).strip().lower(), None) if h is not None else None for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputFileError(
            f"{path}: sheet '{sheet}' lacks the column(s) {', '.join(missing)}; keep the worksheet's header "
            "row as sopaudit wrote it (columns may be added, not renamed)")
    at = {c: header.index(c) for c in columns}
    data = [[r[at[c]] if at[c] < len(r) else None for c in columns] for r in rows[1:]
            if any(v not in (None, "") for v in r)]
    return pd.DataFrame(data, columns=columns)


def read_worksheet(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(items with verdict codes, strata) of a filled worksheet. Raises InputFileError naming
    the row of a verdict that is not one of the three (in either language)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"no worksheet at {path}")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not XLSX
        raise InputFileError(f"{path} is not a readable XLSX worksheet ({exc})") from exc
    if len(wb.worksheets) < 3:
        raise InputFileError(f"{path} has {len(wb.worksheets)} sheet(s); a sopaudit verification worksheet has 4")
    sheet, _, strata_ws = wb.worksheets[:3]
    items = _read_sheet(sheet, SAMPLE_COLUMNS, path, sheet.title)
    strata = _read_sheet(strata_ws, STRATA_COLUMNS, path, strata_ws.title)
    wb.close()
    verdicts = _reverse("verify.verdict.", VERDICTS)
    verdicts.update({"not confirmed": "not_confirmed", "cannot tell": "cannot_tell"})
    codes = []
    for i, v in enumerate(items["verdict"], start=2):
        text = "" if v is None or (isinstance(v, float) and v != v) else str(v).strip()
        if text and text.lower() not in verdicts:
            allowed = sorted({catalog(lang)[f"verify.verdict.{k}"] for lang in LANGS for k in VERDICTS})
            raise InputFileError(f"{path}, sheet '{sheet.title}', row {i}: verdict {text!r} is not one of "
                                 f"{', '.join(allowed)}; pick one from the drop-down or leave it empty")
        codes.append(verdicts[text.lower()] if text else "")
    items["verdict"] = codes
    samples = _reverse("verify.sample.", ("finding", "conforming"))
    items["sample"] = [samples.get(str(s).strip().lower(), str(s)) for s in items["sample"]]
    for col in ("item", "case_id", "stratum", "comment", "paper_ref"):
        items[col] = items[col].map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
    strata["population"] = pd.to_numeric(strata["population"], errors="coerce").fillna(0).astype(int)
    strata["sampled"] = pd.to_numeric(strata["sampled"], errors="coerce").fillna(0).astype(int)
    strata["stratum"] = strata["stratum"].astype(str)
    return items, strata
