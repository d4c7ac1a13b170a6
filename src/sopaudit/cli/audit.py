"""`sopaudit audit` and `sopaudit demo`: read a log, audit it against an SOP, write the report."""

from __future__ import annotations

import gc
from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.cli.options import column_options
from sopaudit.conform.limits import AlignLimits
from sopaudit.core.errors import SopAuditError

DEMO_SOP = Path("reference_models") / "paspor_baru_mpaspor.yaml"
DEMO_LOG = Path("event_logs") / "paspor_demo_synthetic.csv"
DEMO_ROLES = Path("event_logs") / "paspor_demo_petugas.csv"
DEMO_MAPPING = {"case": "no_permohonan", "activity": "tahapan", "time": "waktu", "resource": "petugas"}


def _print_summary(result, written: dict[str, Path], lang: str = "en") -> None:
    """The audit in a few lines, in the report language (catalog keys `cli.*`); the numbers are
    defined as in the report (docs/report-schema.md)."""
    from sopaudit.core.kinds import DEVIATING
    from sopaudit.report.figures import fitness_shown
    from sopaudit.report.i18n import format_number, format_percent, translator

    t = translator(lang)
    m = result.metrics
    num = lambda v, d=0: format_number(v, lang, d)  # noqa: E731
    header = result.sop.header
    # an imported model without a name of its own is titled by its file name, as its code is
    title = "" if header.title == header.code else header.title
    click.echo(t("cli.sop", code=header.code, title=title).rstrip())
    click.echo(t("cli.cases", cases=num(m["cases"]), events=num(m["events"]), variants=num(m["variants"])))
    if result.rejected:
        click.echo(t("cli.rejected", n=num(len(result.rejected))))
    precision = t("cli.precision", value=num(m["precision"], 3)) if m.get("precision") is not None else ""
    click.echo(t("cli.conforming", conf=num(m["conforming_cases"]), finished=num(m["finished_cases"]),
                 rate=format_percent(m["case_conformance_rate"], lang), fitness=num(fitness_shown(result), 3))
               + precision)
    if m["incomplete_cases"]:
        click.echo(t("cli.open", n=num(m["incomplete_cases"])))
    kinds = "   ".join(f"{t('kind.' + k)} {num(m['deviations_by_kind'][k])}" for k in DEVIATING
                       if m["deviations_by_kind"][k]) or t("none")
    click.echo(t("cli.findings", n=num(m["deviations"]), cases=num(m["cases_with_findings"]), all=num(m["cases"]),
                 kinds=kinds))
    for u in m.get("unaligned_variants", []):
        click.echo(t("cli.unaligned", id=u["variant_id"], n=num(u["cases"]), reason=u["reason"]))
    if m.get("accepted_deviations"):
        click.echo(t("cli.accepted", n=num(m["accepted_deviations"])))
    # label warnings of the audit, then the ingest's warnings about the mapping
    for w in [*getattr(result, "warnings", []), *(result.quality or {}).get("warnings", [])]:
        click.echo(f"WARNING    {w['message']}")
    if "report" in written:
        click.echo(t("cli.report", path=written["report"]))


@click.command()
@click.option("--log", "log_path", required=True, type=click.Path(path_type=Path),
              help="Event log: CSV (.csv, .txt, .tsv, .csv.gz), XLSX, Parquet or XES (.xes, .xes.gz).")
@click.option("--sop", "sop_path", required=True, type=click.Path(path_type=Path),
              help="SOP reference model (.yaml, .pnml or .bpmn).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the report files.")
@column_options
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path), default=None,
              help="Mapping YAML file for the log (docs/mapping.md); the column flags override it.")
@click.option("--strict", is_flag=True, help="Stop at the first unreadable row of the log instead of listing it.")
@click.option("--tz", default=None, help="Time zone of naive times (IANA name or WIB/WITA/WIT); default: the "
              "mapping file's, else Asia/Jakarta.")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True, help="Report language.")
@click.option("--processes", type=int, default=None, help="Worker processes for the alignments (default: all cores).")
@click.option("--accepted", type=click.Path(path_type=Path), default=None,
              help="Allow-list of accepted deviations (YAML, see docs/deviations.md).")
@click.option("--precision/--no-precision", default=False, show_default=True,
              help="Also compute alignment-based precision (slow on large logs).")
@click.option("--formats", default=None, help="Report files to write, comma-separated from html, xlsx, csv, json "
              "(default: all).")
@click.option("--roles", type=click.Path(path_type=Path), default=None,
              help="Officers and their roles with validity dates (CSV or YAML, docs/time-and-roles.md).")
@click.option("--closures", type=click.Path(path_type=Path), default=None,
              help="Office-specific closed days (CSV or YAML, docs/calendar.md).")
@click.option("--cuti-bersama-working", is_flag=True,
              help="Count collective leave days (cuti bersama) as working days (the office stayed open).")
@click.option("--segments", default=None,
              help="Break the findings down by these attributes, comma-separated (org:resource or officer, month, "
              "weekday, or any case or event column): segments.csv and a report section (docs/reform.md).")
@click.option("--open-days", type=float, default=None,
              help="Override: a case whose last event is this many days before the end of the log may still be "
              "open (default: decided from the waits observed for the step the SOP expects next, or its stated "
              "wait; docs/deviations.md).")
@click.option("--align-max-states", type=int, default=AlignLimits.max_states, show_default=True,
              help="Search states one variant's alignment may keep (about half a kilobyte each); a variant "
              "over it is listed as not aligned and the others are still judged.")
@click.option("--align-max-seconds", type=float, default=AlignLimits.max_seconds, show_default=True,
              help="Seconds one variant's alignment may take (same effect as --align-max-states).")
@user_errors
def audit(log_path, sop_path, out, case, activity, time_col, resource, tz, lang, processes, accepted,
          precision, formats, roles, closures, cuti_bersama_working, open_days, mapping_file=None,
          strict=False, time_format=None, align_max_states=AlignLimits.max_states,
          align_max_seconds=AlignLimits.max_seconds, segments=None) -> None:
    """Check an event log against an SOP and write the report into OUT."""
    from sopaudit.ingest import ahead

    ahead.start(log_path)  # an XES log is read while the imports below run
    mapping = {"case": case, "activity": activity, "time": time_col, "resource": resource,
               "mapping": mapping_file, "strict": strict, "time_format": time_format}
    from sopaudit.auditing.files import audit_files
    from sopaudit.core.outdir import check_out_dir

    # The objects of those imports (modules, functions, classes) live to the end of the command:
    # the collector's full passes during the audit skip them (0.17 -> 0.08 s of collection on a
    # 150,000-case audit).
    gc.freeze()
    # a bad --out is found before the audit, not after it
    check_out_dir(out, [log_path, sop_path, mapping_file, closures, accepted, roles])
    result, written = audit_files(log_path, sop_path, out, mapping, tz, lang, formats, closures, cuti_bersama_working,
                                  processes=processes, accepted=accepted, precision=precision, roles=roles,
                                  open_days=open_days, align_limits=AlignLimits(align_max_states, align_max_seconds),
                                  segments_by=tuple(s.strip() for s in (segments or "").split(",") if s.strip()))
    _print_summary(result, written, lang)


def _demo_root() -> Path:
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (root / DEMO_SOP).is_file() and (root / DEMO_LOG).is_file():
            return root
    raise SopAuditError(
        f"cannot find the demo sample ({DEMO_SOP} and {DEMO_LOG}); run `sopaudit demo` from the "
        "sopaudit checkout, or install sopaudit from it with `pip install -e .`"
    )


@click.command()
@click.option("--out", default=Path("reports") / "demo", type=click.Path(path_type=Path), show_default=True,
              help="Folder for the report files.")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True, help="Report language.")
@user_errors
def demo(out, lang) -> None:
    """Audit the bundled synthetic passport sample against its SOP (the demo audit)."""
    from sopaudit.report.i18n import translator

    root = _demo_root()
    t = translator(lang)
    click.echo(t("cli.demo", log=DEMO_LOG, sop=DEMO_SOP))
    click.echo(t("cli.demo_roles", roles=DEMO_ROLES))
    from sopaudit.auditing.files import audit_files

    result, written = audit_files(root / DEMO_LOG, root / DEMO_SOP, out, DEMO_MAPPING, "Asia/Pontianak", lang,
                                  precision=True, roles=root / DEMO_ROLES)
    _print_summary(result, written, lang)


