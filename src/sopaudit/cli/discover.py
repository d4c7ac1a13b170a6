"""`sopaudit discover`: the actual process of an event log (directly-follows graph, variants,
process map, discovered models and their quality) and, with --sop, how it differs from the SOP.

The command calls the same public functions a notebook uses (`sopaudit.discovery`,
`sopaudit.compare`); it owns the terminal and the files it writes."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sopaudit.cli.errors import user_errors
from sopaudit.cli.options import column_options
from sopaudit.core import progress
from sopaudit.core.errors import SopAuditError

if TYPE_CHECKING:  # pandas is imported when a command runs, not at start-up
    import pandas as pd

logger = logging.getLogger(__name__)

# sopaudit.discovery.models holds these too (tests check they agree): the CLI module does not
# import pandas or pm4py before a command runs, so `sopaudit --help` stays fast.
MODELS = ("inductive", "heuristics")
DEFAULT_BUDGET_S = 30.0
MAX_ACTIVITIES = 100
MAX_VARIANTS = 10_000

# Files written, in the order the command writes them.
FILES = ("dfg.csv", "variants.csv", "map.svg", "map.png", "models.json")
SOP_FILES = ("differences.csv", "actual_vs_sop.svg", "sop_overlay.svg")


def _date(value: str | None, flag: str) -> pd.Timestamp | None:
    import pandas as pd

    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = None
    if ts is None or pd.isna(ts):
        raise SopAuditError(f"{flag} {value!r} is not a date; write it as YYYY-MM-DD (e.g. 2024-03-01) "
                            "or YYYY-MM-DD HH:MM, in the log's time zone")
    return ts


def _filters(log: pd.DataFrame, log_path: Path, date_from, date_to, attribute, values, coverage
             ) -> tuple[pd.DataFrame, dict]:
    """Apply the auditor's filters (whole cases only) and say what was applied."""
    from sopaudit.discovery.mining import filter_log

    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    if start is not None and end is not None and end <= start:
        raise SopAuditError(f"--to {date_to} is not after --from {date_from}; the period would be empty")
    if (attribute is None) != (values is None):
        raise SopAuditError("--attribute and --values go together: name the column with --attribute "
                            "and the values to keep with --values A,B")
    value_list = None
    if values is not None:
        value_list = [v.strip() for v in values.split(",") if v.strip()]
        if not value_list:
            raise SopAuditError("--values is empty; list the values to keep, separated by commas")
        if attribute not in log.columns:
            raise SopAuditError(
                f"{log_path}: --attribute {attribute!r} is not a column of the log; its columns are "
                f"{', '.join(map(str, log.columns))}")
    if coverage is not None and not 0 < coverage <= 1:
        raise SopAuditError(f"--coverage {coverage} must be a share of the cases above 0 and at most 1 "
                            "(e.g. 0.8 keeps the most frequent variants that cover 80% of the cases)")
    applied = {"from": date_from, "to": date_to, "attribute": attribute, "values": value_list,
               "coverage": coverage}
    if all(v is None for v in applied.values()):
        return log, {}
    kept = filter_log(log, start=start, end=end, attribute=attribute, values=value_list,
                      variant_coverage=coverage)
    if kept.empty:
        raise SopAuditError(f"{log_path}: no case passes the filters ({_describe(applied)}); "
                            "widen the period or check the attribute values")
    return kept, {k: v for k, v in applied.items() if v is not None}


def _describe(applied: dict) -> str:
    parts = []
    if applied.get("from") or applied.get("to"):
        parts.append(f"first event in [{applied.get('from') or '...'}, {applied.get('to') or '...'})")
    if applied.get("attribute"):
        parts.append(f"{applied['attribute']} in {', '.join(applied['values'])}")
    if applied.get("coverage"):
        parts.append(f"top variants covering {100 * applied['coverage']:g}% of the cases")
    return "; ".join(parts)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from sopaudit.report.safety import neutralise_frame

    # activity names come from exports: a name starting with "=" must not run as a formula
    neutralise_frame(frame).to_csv(path, index=False, lineterminator="\n")


@click.command("discover")
@click.option("--log", "log_path", required=True, type=click.Path(path_type=Path),
              help="Event log: CSV (.csv, .txt, .tsv, .csv.gz), XLSX, Parquet or XES (.xes, .xes.gz).")
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path), help="Folder for the files.")
@click.option("--sop", "sop_path", default=None, type=click.Path(path_type=Path),
              help="SOP reference model (.yaml, .pnml or .bpmn): also compare the actual process with it.")
@click.option("--mapping", "mapping_path", default=None, type=click.Path(path_type=Path),
              help="Column mapping file (YAML, see docs/mapping.md); the flags below override it.")
@column_options
@click.option("--tz", default=None,
              help="Time zone of naive times (IANA name or WIB/WITA/WIT; default Asia/Jakarta).")
@click.option("--from", "date_from", default=None, help="Keep cases whose first event is on or after this date.")
@click.option("--to", "date_to", default=None, help="Keep cases whose first event is before this date.")
@click.option("--attribute", default=None, help="Column to filter cases on (with --values).")
@click.option("--values", default=None, help="Values of --attribute to keep, comma-separated.")
@click.option("--coverage", type=float, default=None,
              help="Keep the most frequent variants that together cover this share of the cases (e.g. 0.8).")
@click.option("--noise", type=float, default=0.2, show_default=True, help="Inductive Miner noise threshold.")
@click.option("--models/--no-models", "with_models", default=True, show_default=True,
              help="Mine the Inductive and Heuristics Miner models and their token-replay quality (pm4py).")
@click.option("--model-budget", type=float, default=DEFAULT_BUDGET_S, show_default=True,
              help="Seconds the models may take together (mining and quality); a model over its share is "
                   "stopped. 0: no limit.")
@click.option("--force-models", is_flag=True, default=False,
              help=f"Mine even a log beyond {MAX_ACTIVITIES} activities or {MAX_VARIANTS:,} variants.")
@click.option("--max-nodes", type=int, default=40, show_default=True,
              help="Draw at most this many of the most frequent activities.")
@click.option("--min-edge-share", type=float, default=0.01, show_default=True,
              help="Draw flows taken by at least this share of the cases.")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True,
              help="Language of the SOP drawings.")
@user_errors
def discover_command(log_path, out, sop_path, mapping_path, case, activity, time_col, resource, tz, date_from,
                     date_to, attribute, values, coverage, noise, with_models, model_budget, force_models, max_nodes,
                     min_edge_share, lang, time_format=None) -> None:
    """Discover the actual process of an event log and write it into OUT: dfg.csv, variants.csv,
    map.svg, map.png and models.json; with --sop also differences.csv, actual_vs_sop.svg and
    sop_overlay.svg."""
    from sopaudit.core.columns import log_info
    from sopaudit.core.outdir import check_out_dir, staged_folder
    from sopaudit.ingest import read_log
    from sopaudit.sop import load_sop

    if not 0 <= noise <= 1:
        raise SopAuditError(f"--noise {noise} must be between 0 and 1 (0.2 is the usual threshold)")
    if model_budget < 0:
        raise SopAuditError(f"--model-budget {model_budget:g} must be 0 (no limit) or a number of seconds")
    if max_nodes < 1:
        raise SopAuditError(f"--max-nodes {max_nodes} must be at least 1")
    if not 0 <= min_edge_share <= 1:
        raise SopAuditError(f"--min-edge-share {min_edge_share} must be a share between 0 and 1")
    inputs = [log_path, sop_path, mapping_path]
    check_out_dir(out, inputs, "-o")  # a bad output folder is found before any work
    sop = load_sop(sop_path) if sop_path is not None else None  # first: a bad SOP is cheap to find
    given = {"mapping": mapping_path, "case": case, "activity": activity, "time": time_col,
             "resource": resource, "tz": tz, "time_format": time_format}
    # only what the user gave: a mapping file's own time zone must not be overridden by a default
    with progress.step(f"reading {log_path.name}"):
        log = read_log(log_path, **{k: v for k, v in given.items() if v is not None})
    info = log_info(log)
    n_all = int(log["case:concept:name"].nunique())
    log, applied = _filters(log, log_path, date_from, date_to, attribute, values, coverage)
    # all or nothing, models.json (the summary) last; files of an earlier run not written now are removed
    with staged_folder(out, (*FILES, *SOP_FILES, "rejected_rows.csv"), mark="models.json", inputs=inputs) as tmp:
        pm, nodes, edges, models, written = _write_files(
            tmp, log, log_path, info, sop, sop_path, lang, applied, max_nodes, min_edge_share,
            {"with_models": with_models, "noise": noise, "budget_s": model_budget or None, "force": force_models})
    _print(log_path, out, pm, nodes, edges, models, written, info, applied, n_all, sop, with_models)


def _write_files(out, log, log_path, info, sop, sop_path, lang, applied, max_nodes, min_edge_share, mining):
    from sopaudit.auditing.run import audit as run_audit
    from sopaudit.discovery import flows as cmp
    from sopaudit.discovery import overlay
    from sopaudit.discovery.models import mine_models
    from sopaudit.discovery.processmap import discover
    from sopaudit.ingest.write import write_rejected

    written: list[str] = []

    with progress.step("process map"):
        pm = discover(log)
        _write_csv(pm.dfg, out / "dfg.csv")
        _write_csv(pm.variants.drop(columns=["activities"]), out / "variants.csv")
        thresholds = {"max_nodes": max_nodes, "min_edge_share": min_edge_share}
        pm.draw(out / "map.svg", **thresholds)
        pm.draw(out / "map.png", fmt="png", **thresholds)
        nodes, edges = pm.graph(**thresholds)
    models = {
        "log": {"path": str(log_path), "sha256": info.sha256, "cases": pm.n_cases, "events": pm.n_events,
                "variants": len(pm.variants), "activities": len(pm.activities)},
        "filters": applied,
    }
    if mining["with_models"]:
        models.update(mine_models(log, noise=mining["noise"], budget_s=mining["budget_s"], force=mining["force"],
                                  n_activities=len(pm.activities), n_variants=len(pm.variants)))
    written += list(FILES)

    if sop is not None:
        progress.note(f"comparing with the SOP {sop.header.code}")
        flows = cmp.sop_flows(sop)
        result = run_audit(log, sop)
        # one open-case decision: a case the audit finds still under way has not ended
        still_open = cmp.open_case_ids(result)
        diff = cmp.compare(log, sop, flows=flows, open_cases=still_open)
        _write_csv(diff, out / "differences.csv")
        overlay.draw_actual_vs_sop(log, sop, out / "actual_vs_sop.svg", lang=lang, flows=flows,
                                   open_cases=still_open, **thresholds)
        overlay.draw_sop_overlay(result, out / "sop_overlay.svg", lang=lang, flows=flows)
        counts = diff.groupby("kind").agg(rows=("kind", "size"), count=("count", "sum"))
        bad = diff[diff["kind"] == "flow_not_in_sop"]
        models["sop"] = {
            "code": sop.header.code, "path": str(sop_path), "sha256": sop.sha256,
            "fitness": result.metrics["fitness"],
            "conforming_cases": result.metrics["conforming_cases"],
            "open_cases": result.metrics["incomplete_cases"],
            "differences": {k: int(counts["rows"].get(k, 0)) for k in cmp.DIFFERENCE_KINDS},
            "flows_not_in_sop_times": int(bad["count"].sum()),
        }
        written += list(SOP_FILES)
    (out / "models.json").write_text(json.dumps(models, ensure_ascii=False, indent=2, allow_nan=False) + "\n",
                                     encoding="utf-8")
    if write_rejected(info.rejected, out / "rejected_rows.csv") is not None:
        written.append("rejected_rows.csv")
    return pm, nodes, edges, models, written


def _print(log_path, out, pm, nodes, edges, models, written, info, applied, n_all, sop, with_models) -> None:

    shown = sum(1 for n in nodes if n.id not in ("▶", "■"))
    click.echo(f"log        {log_path}: {pm.n_cases:,} cases, {pm.n_events:,} events, "
               f"{len(pm.variants):,} variants, {len(pm.activities):,} activities")
    if info.rejected:
        click.echo(f"rejected   {len(info.rejected):,} input rows (listed in rejected_rows.csv)")
    if applied:
        click.echo(f"filters    {_describe(applied)}: {pm.n_cases:,} of {n_all:,} cases kept")
    click.echo(f"map        {shown} of {len(pm.activities):,} activities and {len(edges):,} flows drawn")
    for name in MODELS if with_models else ():
        q = models[name]
        if "skipped" in q:
            hint = "--model-budget SECONDS to allow more time" if q["skipped"].startswith("stopped") else (
                "--force-models to mine anyway" if q["skipped"].startswith("not mined") else "")
            click.echo(f"{name:<10} {q['skipped']}" + (f" ({hint}; --no-models to skip)" if hint else ""))
            continue
        click.echo(f"{name:<10} fitness {q['fitness']:.4f}   precision {q['precision']:.4f}   "
                   f"(token replay; {q['transitions'] - q['silent_transitions']} visible transitions)")
    if sop is not None:
        s = models["sop"]["differences"]
        click.echo(f"sop        {sop.header.code}: flows the SOP does not allow {s['flow_not_in_sop']:,} "
                   f"({models['sop']['flows_not_in_sop_times']:,} times); activities outside the SOP "
                   f"{s['activity_not_in_sop']:,}; never seen: SOP steps {s['step_not_in_log']:,}, "
                   f"SOP flows {s['flow_not_in_log']:,}")
    click.echo(f"written    {out}: {', '.join(written)}")
