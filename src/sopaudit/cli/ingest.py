"""`sopaudit ingest`: read an export into the canonical log, or propose a mapping for it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.core.errors import MappingError


@click.command("ingest")
@click.argument("source")
@click.option("--mapping", "mapping_file", type=click.Path(path_type=Path), default=None,
              help="Mapping YAML file (docs/mapping.md); flags override its values.")
@click.option("--suggest", is_flag=True, help="Propose a mapping from the column names and values and print it as YAML.")
@click.option("--case", default=None, help="Column holding the case id (application number).")
@click.option("--activity", default=None, help="Column holding the step or status name.")
@click.option("--time", "time_col", default=None, help="Column holding the event time (the end time with --start).")
@click.option("--start", default=None, help="Column holding the start time (with --time as the end time).")
@click.option("--lifecycle", default=None, help="Column holding start/complete (pairs become one event).")
@click.option("--resource", default=None, help="Column holding the officer.")
@click.option("--sequence", default=None, help="Column ordering events with equal times in a case.")
@click.option("--time-format", default=None,
              help="auto, iso, dayfirst, monthfirst, excel, epoch, epoch_ms, or a strptime pattern like '%d/%m/%Y %H:%M'.")
@click.option("--tz", default=None, help="Time zone of naive times: IANA name or WIB/WITA/WIT (default Asia/Jakarta).")
@click.option("--sheet", default=None, help="XLSX sheet to read (default: the first).")
@click.option("--query", default=None, help="SQL query, when SOURCE is a database URL (sqlite:///file.db).")
@click.option("--labels", type=click.Path(path_type=Path), default=None,
              help="CSV label table (label,activity) mapping recorded labels to SOP steps.")
@click.option("--duplicates", type=click.Choice(["keep", "drop"]), default=None,
              help="Exact duplicate rows: keep them as events (default) or drop them (listed as rejected).")
@click.option("--sop", "sop_path", type=click.Path(path_type=Path), default=None,
              help="With --suggest: the SOP whose step names and aliases the date columns of a rekap are matched against.")
@click.option("--strict", is_flag=True, help="Stop at the first problem with an error instead of listing it.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write the canonical log here (.parquet, .xes or .xes.gz).")
@click.option("--quality-json", type=click.Path(path_type=Path), default=None,
              help="Also write the quality report (and rejected rows) to this JSON file.")
@user_errors
def ingest_command(source, mapping_file, suggest, case, activity, time_col, start, lifecycle, resource,
                   sequence, time_format, tz, sheet, query, labels, duplicates, sop_path, strict, output,
                   quality_json) -> None:
    """Read SOURCE (CSV, XLSX, Parquet, XES, or a database URL with --query), print the data-quality
    summary, and write the canonical event log with -o. With --suggest, print a proposed mapping."""
    from sopaudit.core.columns import log_info
    from sopaudit.core.outdir import check_out_file, staged_files
    from sopaudit.ingest import read_log
    from sopaudit.ingest.quality import summary_lines
    from sopaudit.ingest.suggest import suggest_mapping
    from sopaudit.ingest.write import write_log

    if suggest:
        given = [n for n, v in (("--mapping", mapping_file), ("--case", case), ("--activity", activity),
                                ("--time", time_col), ("-o", output)) if v]
        if given:
            raise MappingError(f"--suggest only proposes a mapping; drop {', '.join(given)} (nothing is applied)")
        steps = None
        if sop_path is not None:
            from sopaudit.sop.load import load_sop

            steps = [(s.id, [s.name, *s.aliases]) for s in load_sop(sop_path).steps]
        click.echo(suggest_mapping(source, sheet=sheet, query=query, steps=steps).to_yaml(), nl=False)
        return
    if sop_path is not None:
        raise MappingError("--sop is for --suggest (to match a rekap's date columns to SOP steps); "
                           "audit a log against an SOP with `sopaudit audit`")
    inputs = [source, mapping_file, labels]
    for path, flag in ((output, "-o"), (quality_json, "--quality-json")):
        if path is not None:  # before the read: a bad output path costs no ingest
            check_out_file(path, inputs, flag)
    log = read_log(source, mapping=mapping_file, case=case, activity=activity, time=time_col, start=start,
                   lifecycle=lifecycle, resource=resource, sequence=sequence, time_format=time_format,
                   tz=tz, sheet=sheet, query=query, labels=labels, duplicates=duplicates, strict=strict)
    info = log_info(log)
    for line in summary_lines(info.quality):
        click.echo(line)
    with staged_files(output, quality_json, inputs=inputs) as (log_tmp, quality_tmp):
        if quality_tmp is not None:
            quality_tmp.write_text(json.dumps(info.quality, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        if log_tmp is not None:
            write_log(log, log_tmp)
    if quality_json is not None:
        click.echo(f"quality    {quality_json}")
    if output is not None:
        click.echo(f"written    {output}  ({len(log):,} events)")
