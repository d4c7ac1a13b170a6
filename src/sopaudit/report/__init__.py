"""Report files of an audit: report.html, findings.xlsx, CSV tables and summary.json.

Modules: `html` (the self-contained page), `xlsx` (the workbook), `charts` (matplotlib SVG),
`maps` (the SOP beside the actual process), `figures` (the numbers every format shares),
`summary` (summary.json), `quality` (data-quality section), `details` (findings in words),
`i18n` (catalogs and locale formatting), `safety` (escaping and formula neutralising).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from sopaudit.core import progress
from sopaudit.core.cores import workers
from sopaudit.core.errors import SopAuditError
from sopaudit.core.outdir import check_out_dir, staged_folder
from sopaudit.report.csvfiles import write_csv
from sopaudit.report.i18n import LANGS
from sopaudit.report.summary import build_summary

logger = logging.getLogger(__name__)

FORMATS = ("html", "xlsx", "csv", "json")
# Every file a report folder can hold: one an earlier run wrote and this run did not is removed.
REPORT_FILES = ("report.html", "findings.xlsx", "summary.json", "deviations.csv", "cases.csv", "steps.csv",
                "variants.csv", "timing.csv", "segments.csv", "quality.json", "rejected_rows.csv")
COMPLETION_MARK = "summary.json"
DEFAULT_FORMATS = FORMATS

__all__ = ["DEFAULT_FORMATS", "FORMATS", "build_summary", "parse_formats", "render_html", "write_report",
           "write_xlsx"]


def __getattr__(name: str):
    # The HTML page (matplotlib charts) and the workbook (openpyxl) are imported when used.
    if name == "render_html":
        from sopaudit.report.html import render_html
        return render_html
    if name == "write_xlsx":
        from sopaudit.report.xlsx import write_xlsx
        return write_xlsx
    raise AttributeError(f"module 'sopaudit.report' has no attribute {name!r}")


class ReportOptionError(SopAuditError):
    """A report format or language that sopaudit does not write."""


def parse_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """'html,xlsx' or ['html', 'xlsx'] -> ('html', 'xlsx'); None -> every format."""
    if formats is None:
        return DEFAULT_FORMATS
    items = [f.strip().lower() for f in (formats.split(",") if isinstance(formats, str) else formats)]
    items = [f for f in items if f]
    unknown = [f for f in items if f not in FORMATS]
    if unknown or not items:
        raise ReportOptionError(
            f"unknown report format(s) {', '.join(repr(f) for f in unknown) or '(none given)'}; "
            f"choose from {', '.join(FORMATS)} (comma-separated, e.g. --formats html,xlsx)")
    return tuple(dict.fromkeys(items))


def write_report(result, out_dir, formats=DEFAULT_FORMATS, lang: str = "id") -> dict[str, Path]:
    """Write the chosen formats into out_dir (created if needed); returns name -> path.

    Formats: html (report.html), xlsx (findings.xlsx), csv (deviations, cases, steps, variants
    and, when measured, timing), json (summary.json). The ingest's data-quality report
    (quality.json) and its unreadable rows (rejected_rows.csv, when there are any) are always
    written: they are the evidence of what was not audited.

    All or nothing: the files are written into a temporary folder beside `out_dir` and moved into
    it when every one is written, summary.json last; report files of an earlier run that this run
    does not write are removed, so the folder never mixes two runs."""
    formats = parse_formats(formats)
    if lang not in LANGS:
        raise ReportOptionError(f"unknown report language '{lang}'; use one of {', '.join(LANGS)}")
    inputs = [i.get("path") for i in result.provenance.get("inputs", [])]
    check_out_dir(out_dir, inputs)
    with staged_folder(out_dir, REPORT_FILES, mark=COMPLETION_MARK, inputs=inputs) as tmp:
        names = _write_files(result, tmp, formats, lang)
    out = Path(out_dir)
    logger.info("report written to %s (%s)", out, ", ".join(formats))
    return {key: out / name for key, name in names.items()}


def _write_files(result, out: Path, formats: tuple[str, ...], lang: str) -> dict[str, str]:
    with progress.step("report files", total=len(formats)) as advance:
        return _write(result, out, formats, lang, advance)


def _write(result, out: Path, formats: tuple[str, ...], lang: str, advance) -> dict[str, str]:
    from sopaudit.ingest.write import write_quality_dict, write_rejected

    # The formats are written two at a time when a core is idle, the longest first: the workbook
    # and the page each hold the GIL only part of the time (Arrow, zlib), so together they take
    # about a fifth less wall time (for a quarter more CPU, which a busy machine cannot spare).
    writers = {"xlsx": _write_xlsx, "html": _write_html, "csv": _write_csvs, "json": _write_json}
    with ThreadPoolExecutor(workers(2), thread_name_prefix="sopaudit-report") as pool:
        jobs = {f: pool.submit(writers[f], result, out, lang) for f in writers if f in formats}
        for _ in as_completed(jobs.values()):
            advance(1)  # here, not in the writers' threads: a notebook's bar is updated from this one
    written: dict[str, Path] = {}
    for f in ("csv", "json", "xlsx", "html"):  # the order of the returned names
        if f in jobs:
            written.update(jobs[f].result())  # a writer's error is raised here
    written["quality"] = write_quality_dict(result.quality, out / "quality.json")
    rejected = write_rejected(result.rejected, out / "rejected_rows.csv")
    if rejected is not None:
        written["rejected"] = rejected
    return {key: path.name for key, path in written.items()}


def _write_csvs(result, out: Path, lang: str) -> dict[str, Path]:
    tables = [("deviations", result.deviations), ("cases", result.cases), ("steps", result.steps),
              ("variants", result.variants)]
    if not result.timing.empty:
        tables.append(("timing", result.timing))
    if not result.segments.empty:  # sopaudit audit --segments (analysis/segments.py)
        tables.append(("segments", result.segments))
    written = {}
    for name, df in tables:
        written[name] = out / f"{name}.csv"
        write_csv(df, written[name])
    return written


def _write_json(result, out: Path, lang: str) -> dict[str, Path]:
    path = out / "summary.json"
    path.write_text(json.dumps(build_summary(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"summary": path}


def _write_xlsx(result, out: Path, lang: str) -> dict[str, Path]:
    from sopaudit.report.xlsx import write_xlsx

    return {"xlsx": write_xlsx(result, out / "findings.xlsx", lang=lang)}


def _write_html(result, out: Path, lang: str) -> dict[str, Path]:
    from sopaudit.report.html import render_html

    path = out / "report.html"
    path.write_text(render_html(result, lang), encoding="utf-8")
    return {"report": path}
