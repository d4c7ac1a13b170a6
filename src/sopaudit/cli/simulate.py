"""`sopaudit simulate`: a synthetic service log with known deviations, and the truth file."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.core.errors import SopAuditError


@click.command("simulate")
@click.option("--sop", "sop_path", type=click.Path(path_type=Path), default=None,
              help="SOP reference model (.yaml with a flow). Default: the `sop:` named by the scenario.")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path), default=None,
              help="Scenario file (docs/simulation.md). Default: one office, moderate deviation rates.")
@click.option("--cases", type=int, default=None, help="Number of cases (default: the scenario's, else 1000).")
@click.option("--seed", type=int, default=None, help="Random seed; the same seed gives the same files.")
@click.option("-o", "--out", "out", required=True, type=click.Path(path_type=Path),
              help="Event log to write: .csv, .csv.gz, .parquet, .xes or .xes.gz.")
@click.option("--truth", "truth_path", type=click.Path(path_type=Path), default=None,
              help="Truth file to write (.csv or .csv.gz): one row per deviation in the log.")
@click.option("--officers", "officers_path", type=click.Path(path_type=Path), default=None,
              help="Officer-role file to write (.csv), for `sopaudit audit --roles`.")
@click.option("--labels", type=click.Choice(["id", "alias", "name"]), default=None,
              help="What the log records as the activity: step id, the first alias (system code) or name.")
@user_errors
def simulate_command(sop_path, scenario_path, cases, seed, out, truth_path, officers_path, labels) -> None:
    """Simulate a service log from an SOP, with deviations injected at known rates."""
    from sopaudit.core.outdir import check_out_file, staged_files
    from sopaudit.simulation import (
        default_scenario,
        load_scenario,
        officer_roles,
        simulate,
        write_log,
        write_officers,
        write_truth,
    )
    from sopaudit.sop import load_sop

    for path, flag in ((out, "-o"), (truth_path, "--truth"), (officers_path, "--officers")):
        if path is not None:  # before the simulation: a bad output path costs no run
            check_out_file(path, [sop_path, scenario_path], flag)
    scenario = load_scenario(scenario_path) if scenario_path is not None and sop_path is None else None
    if sop_path is None:
        if scenario is None or not scenario.sop:
            raise SopAuditError("name the SOP to simulate with --sop FILE (or write `sop: FILE` in the scenario)")
        sop_path = Path(scenario.source).parent / scenario.sop
    sop = load_sop(sop_path)
    # Read (again) together with the SOP: every problem of the file, also the ones about the SOP.
    scenario = load_scenario(scenario_path, sop) if scenario_path is not None else default_scenario(sop)
    if labels is not None:
        scenario = replace(scenario, labels=labels)
    if seed is None and scenario.seed is None:
        raise SopAuditError("give a --seed (or `seed:` in the scenario) so the log can be made again")
    started = time.time()
    log, truth = simulate(sop, cases, seed, scenario)
    seconds = time.time() - started
    # all or nothing: a failed or killed run leaves no log without its truth file
    with staged_files(out, truth_path, officers_path, inputs=[sop_path, scenario_path]) as (log_tmp, truth_tmp,
                                                                                           officers_tmp):
        write_log(log, log_tmp)
        if truth_tmp is not None:
            write_truth(truth, truth_tmp)
        if officers_tmp is not None:
            write_officers(officer_roles(sop, scenario), officers_tmp)
    written = [p for p in (out, truth_path, officers_path) if p is not None]
    n_cases = log["case:concept:name"].nunique()
    first, last = log["time:timestamp"].min(), log["time:timestamp"].max()
    click.echo(f"SOP        {sop.header.code}  {sop.header.title}")
    click.echo(f"scenario   {scenario.name}" + (f"  ({scenario.source})" if scenario.source else ""))
    click.echo(f"cases      {n_cases:,}   events {len(log):,}   {first:%Y-%m-%d} to {last:%Y-%m-%d}   "
               f"in {seconds:.1f} s")
    counts = truth.groupby("kind").size()
    injected = truth[truth["origin"] == "injected"].groupby("kind")["case_id"].nunique()
    click.echo(f"deviations {len(truth):,} (cases with an injected deviation of each kind, share of all cases):")
    for kind, k in counts.items():
        share = injected.get(kind, 0) / max(n_cases, 1)
        click.echo(f"  {kind:<14} {k:>8,}   {100 * share:5.2f}%")
    for path in written:
        click.echo(f"wrote      {path}")
