"""`sopaudit audit` and `sopaudit demo`: read a log, audit it against an SOP, write the report."""

from __future__ import annotations

from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.core.errors import SopAuditError
from sopaudit.core.kinds import DEFAULT_OPEN_DAYS

DEMO_SOP = Path("reference_models") / "paspor_baru_mpaspor.yaml"
DEMO_LOG = Path("event_logs") / "paspor_demo_synthetic.csv"
DEMO_ROLES = Path("event_logs") / "paspor_demo_petugas.csv"
DEMO_MAPPING = {"case": "no_permohonan", "activity": "tahapan", "time": "waktu", "resource": "petugas"}


def _print_summary(result, written: dict[str, Path]) -> None:
    m = result.metrics
    click.echo(f"SOP        {result.sop.header.code}  {result.sop.header.title}")
    click.echo(f"cases      {m['cases']:,}   events {m['events']:,}   variants {m['variants']:,}")
    if result.rejected:
        click.echo(f"rejected   {len(result.rejected):,} input rows (listed in rejected_rows.csv)")
    precision = f"   precision {m['precision']:.4f}" if m.get("precision") is not None else ""
    click.echo(f"conforming {m['conforming_cases']:,} of {m['finished_cases']:,} finished cases "
               f"({100 * m['case_conformance_rate']:.1f}%)   fitness {m['fitness']:.4f}{precision}")
    if m["incomplete_cases"]:
        click.echo(f"open       {m['incomplete_cases']:,} cases not finished when the log ends")
    kinds = "   ".join(f"{k} {v:,}" for k, v in m["deviations_by_kind"].items() if v) or "none"
    click.echo(f"findings   {m['deviations']:,}:   {kinds}")
    if "report" in written:
        click.echo(f"report     {written['report']}")


def _audit_to_dir(log_path, sop_path, out, mapping: dict, tz: str, lang: str, formats=None,
                  closures=None, cuti_bersama_working: bool = False, **options):
    """Read, audit and write the report; `options` go to `sopaudit.audit` unchanged."""
    from sopaudit.auditing.run import audit as run_audit
    from sopaudit.calendar.workdays import WorkingCalendar
    from sopaudit.core import progress
    from sopaudit.core.columns import log_info
    from sopaudit.ingest import read_log
    from sopaudit.ingest.write import write_quality, write_rejected
    from sopaudit.sop.load import load_sop

    sop = load_sop(sop_path)  # first: an SOP error is cheap to find, a large log is not
    with progress.step(f"reading {Path(log_path).name}"):
        log = read_log(log_path, tz=tz, **mapping)
    calendar = WorkingCalendar(tz=log_info(log).tz or "Asia/Jakarta", cuti_bersama_working=cuti_bersama_working)
    if closures is not None:
        calendar = calendar.with_closures_file(closures)
    with progress.step(f"auditing {len(log):,} events against {sop.header.code}"):
        result = run_audit(log, sop, calendar=calendar, **options)
    written = result.write(out, formats=formats, lang=lang)  # None: every format
    # The ingest's data-quality report and its unreadable rows beside the report.
    written["quality"] = write_quality(log, Path(out) / "quality.json")
    rejected = write_rejected(log_info(log).rejected, Path(out) / "rejected_rows.csv")
    if rejected is not None:
        written["rejected"] = rejected
    return result, written


@click.command()
@click.option("--log", "log_path", required=True, type=click.Path(path_type=Path), help="Event log (CSV or XES).")
@click.option("--sop", "sop_path", required=True, type=click.Path(path_type=Path),
              help="SOP reference model (.yaml, .pnml or .bpmn).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Folder for the report files.")
@click.option("--case", default=None, help="Column holding the case id (application number).")
@click.option("--activity", default=None, help="Column holding the step or status name.")
@click.option("--time", "time_col", default=None, help="Column holding the timestamp.")
@click.option("--resource", default=None, help="Column holding the officer.")
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
@click.option("--open-days", type=float, default=DEFAULT_OPEN_DAYS, show_default=True,
              help="A case whose last event is this many days before the end of the log may still be open.")
@user_errors
def audit(log_path, sop_path, out, case, activity, time_col, resource, tz, lang, processes, accepted,
          precision, formats, roles, closures, cuti_bersama_working, open_days, mapping_file=None,
          strict=False) -> None:
    """Check an event log against an SOP and write the report into OUT."""
    mapping = {"case": case, "activity": activity, "time": time_col, "resource": resource,
               "mapping": mapping_file, "strict": strict}
    result, written = _audit_to_dir(log_path, sop_path, out, mapping, tz, lang, formats, closures, cuti_bersama_working,
                                    processes=processes, accepted=accepted, precision=precision, roles=roles,
                                    open_days=open_days)
    _print_summary(result, written)


def _demo_root() -> Path:
    for root in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (root / DEMO_SOP).is_file() and (root / DEMO_LOG).is_file():
            return root
    raise SopAuditError(
        f"cannot find the demo sample ({DEMO_SOP} and {DEMO_LOG}); run `sopaudit demo` from the "
        "sopaudit checkout, or install sopaudit from it with `pip install -e .`"
    )


@click.command()
@click.option("--out", default=Path("reports") / "demo", type=click.Path(path_type=Path), show_default=True)
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True)
@user_errors
def demo(out, lang) -> None:
    """Audit the bundled synthetic passport sample against its SOP (the demo audit)."""
    root = _demo_root()
    click.echo(f"demo audit of the synthetic sample {DEMO_LOG} against {DEMO_SOP}")
    click.echo(f"officers' roles from {DEMO_ROLES}")
    result, written = _audit_to_dir(root / DEMO_LOG, root / DEMO_SOP, out, DEMO_MAPPING, "Asia/Pontianak", lang,
                                    precision=True, roles=root / DEMO_ROLES)
    _print_summary(result, written)


