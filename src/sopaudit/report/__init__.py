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
from pathlib import Path

from sopaudit.core import progress
from sopaudit.core.errors import SopAuditError
from sopaudit.report.csvfiles import write_csv
from sopaudit.report.html import render_html
from sopaudit.report.i18n import LANGS
from sopaudit.report.summary import build_summary
from sopaudit.report.xlsx import write_xlsx

logger = logging.getLogger(__name__)

FORMATS = ("html", "xlsx", "csv", "json")
DEFAULT_FORMATS = FORMATS

__all__ = ["DEFAULT_FORMATS", "FORMATS", "build_summary", "parse_formats", "render_html", "write_report",
           "write_xlsx"]


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
    and, when measured, timing), json (summary.json)."""
    formats = parse_formats(formats)
    if lang not in LANGS:
        raise ReportOptionError(f"unknown report language '{lang}'; use one of {', '.join(LANGS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with progress.step("report files", total=len(formats)) as advance:
        return _write(result, out, formats, lang, advance)


def _write(result, out: Path, formats: tuple[str, ...], lang: str, advance) -> dict[str, Path]:
    written: dict[str, Path] = {}
    if "csv" in formats:
        tables = [("deviations", result.deviations), ("cases", result.cases), ("steps", result.steps),
                  ("variants", result.variants)]
        if not result.timing.empty:
            tables.append(("timing", result.timing))
        for name, df in tables:
            path = out / f"{name}.csv"
            write_csv(df, path)
            written[name] = path
        advance(1)
    if "json" in formats:
        path = out / "summary.json"
        path.write_text(json.dumps(build_summary(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written["summary"] = path
        advance(1)
    if "xlsx" in formats:
        written["xlsx"] = write_xlsx(result, out / "findings.xlsx", lang=lang)
        advance(1)
    if "html" in formats:
        path = out / "report.html"
        path.write_text(render_html(result, lang), encoding="utf-8")
        written["report"] = path
        advance(1)
    logger.info("report written to %s (%s)", out, ", ".join(formats))
    return written
