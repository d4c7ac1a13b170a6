"""`sopaudit compare`: a reform evaluation of two periods (two logs, or one log split at a date)."""

from __future__ import annotations

from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.cli.options import column_options
from sopaudit.core.errors import SopAuditError


@click.command("compare")
@click.option("--before", "before_log", type=click.Path(path_type=Path), default=None,
              help="Event log of the period before the reform.")
@click.option("--after", "after_log", type=click.Path(path_type=Path), default=None,
              help="Event log of the period after the reform.")
@click.option("--log", "one_log", type=click.Path(path_type=Path), default=None,
              help="One event log covering both periods; use with --split-at.")
@click.option("--split-at", default=None, help="With --log: the reform date (YYYY-MM-DD); cases that start "
              "before it are 'before', the others 'after'.")
@click.option("--sop", "sop_path", required=True, type=click.Path(path_type=Path),
              help="SOP reference model (.yaml, .pnml or .bpmn) of the period before (and after, unless "
              "--sop-after is given).")
@click.option("--sop-after", "sop_after_path", type=click.Path(path_type=Path), default=None,
              help="The SOP in force after the reform, when the reform changed the SOP itself.")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path),
              help="Folder for comparison.html, comparison.xlsx and comparison.json.")
@column_options
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path), default=None,
              help="Mapping YAML file for the logs (docs/mapping.md).")
@click.option("--tz", default=None, help="Time zone of naive times (IANA name or WIB/WITA/WIT).")
@click.option("--roles", type=click.Path(path_type=Path), default=None,
              help="Officers and their roles (CSV or YAML), for both periods.")
@click.option("--roles-after", type=click.Path(path_type=Path), default=None,
              help="Officers and their roles after the reform, when they differ.")
@click.option("--closures", type=click.Path(path_type=Path), default=None, help="Office closed days (CSV or YAML).")
@click.option("--segments", default="org:resource,month",
              help="Attributes to break the findings down by, comma-separated (officer = org:resource, "
              "month, weekday, or any case or event column).", show_default=True)
@click.option("--labels", default=None, help="Names of the two periods, comma-separated (default: before,after).")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="Significance level after correction.")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True, help="Report language.")
@user_errors
def compare_command(before_log, after_log, one_log, split_at, sop_path, sop_after_path, out, case, activity,
                    time_col, resource, time_format, mapping_file, tz, roles, roles_after, closures, segments,
                    labels, alpha, lang) -> None:
    """Compare conformance and service times before and after a reform; say which changes are
    more than chance, where deviations concentrate, and the trend per month."""
    from sopaudit.reform import compare
    from sopaudit.reform.split import audit_periods

    if one_log is not None and (before_log or after_log):
        raise SopAuditError("give either --log with --split-at, or --before and --after, not both")
    if one_log is None and not (before_log and after_log):
        raise SopAuditError("give the two logs with --before and --after, or one log with --log and --split-at")
    if one_log is not None and not split_at:
        raise SopAuditError("--log needs --split-at DATE (the reform date, YYYY-MM-DD)")
    names = tuple(s.strip() for s in labels.split(",")) if labels else ("before", "after")
    if len(names) != 2 or not all(names):
        raise SopAuditError(f"--labels takes two names separated by a comma, e.g. 2023,2024; got '{labels}'")
    mapping = {"case": case, "activity": activity, "time": time_col, "resource": resource, "mapping": mapping_file,
               "time_format": time_format}
    before, after, reform_date = audit_periods(
        before_log=before_log, after_log=after_log, one_log=one_log, split_at=split_at, sop=sop_path,
        sop_after=sop_after_path, mapping=mapping, tz=tz, roles=roles, roles_after=roles_after, closures=closures)
    by = tuple(s.strip() for s in segments.split(",") if s.strip())
    comparison = compare(before, after, alpha=alpha, segments_by=by, labels=names, reform_date=reform_date)
    written = comparison.write(out, lang=lang)
    ch = comparison.changes
    click.echo(f"measures   {len(ch)} compared, {int(ch['significant'].sum())} changed more than chance "
               f"(Holm-corrected, alpha {alpha})")
    for _, r in comparison.significant().head(8).iterrows():
        what = r["kind"] or r["step"] or ""
        click.echo(f"  {r['metric']:<28} {what:<22} {r['before']:.3f} -> {r['after']:.3f}  (p adj {r['p_adjusted']:.2g})")
    click.echo(f"report     {written['html']}")
