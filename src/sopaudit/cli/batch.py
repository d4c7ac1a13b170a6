"""`sopaudit batch PLAN.yaml -o OUT`: run many audits, unattended, and compare them."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from sopaudit.cli.errors import user_errors
from sopaudit.core.errors import SopAuditError


class _Progress:
    """One line per finished audit; on a terminal also an overall bar kept on the last line."""

    def __init__(self, total: int, skipped: int):
        self.total, self.done = total, skipped
        self.tty = sys.stderr.isatty()

    def header(self, text: str) -> None:
        click.echo(text, err=True)
        self._bar()

    def _bar(self) -> None:
        if self.tty:
            width = 30
            filled = width * self.done // max(self.total, 1)
            click.echo(f"[{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} audits", err=True, nl=False)

    def line(self, record: dict) -> None:
        self.done += 1
        m = record.get("metrics") or {}
        rate = m.get("case_conformance_rate")
        what = (f"conforming {100 * rate:.1f}% of {m.get('finished_cases', 0):,} finished cases"
                if rate is not None else (record.get("error") or "").splitlines()[0][:200])
        seconds = f"{record['seconds']:.1f} s" if record.get("seconds") else ""
        text = f"[{self.done}/{self.total}] {record['name']:<24} {record['status']:<7} {seconds:>8}  {what}"
        if self.tty:
            click.echo("\r\033[K" + text, err=True)
            self._bar()
        else:
            click.echo(text, err=True)

    def close(self) -> None:
        if self.tty:
            click.echo("", err=True)


@click.command("batch")
@click.argument("plan_path", type=click.Path(path_type=Path))
@click.option("-o", "--out", required=True, type=click.Path(path_type=Path),
              help="Folder for the reports (OUT/<name>/), index.html, index.xlsx and batch.json.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Audits run side by side on the local process pool (default: the machine's cores).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Run the audits on this dask.distributed scheduler instead of the local pool; its workers "
                   "must read the plan's input paths.")
@click.option("--resume", is_flag=True,
              help="Skip audits whose inputs (by hash) and parameters are unchanged and whose report is complete.")
@click.option("--fail-under", type=float, default=None, metavar="RATE",
              help="Exit 1 when an audit's case conformance rate (0 to 1) is below RATE.")
@click.option("--history", "history", default=None, metavar="URL",
              help="Audit history store (SQLAlchemy URL); default: sqlite:///OUT/history.sqlite.")
@user_errors
def batch_command(plan_path, out, workers, scheduler, resume, fail_under, history) -> None:
    """Run every audit of PLAN.yaml and write their reports, an index and the history (docs/batch.md).

    Exit code 0 when every audit succeeded, 1 when any failed (or is under --fail-under),
    2 when the plan is invalid."""
    from sopaudit.batch.driver import run_batch
    from sopaudit.batch.plan import load_plan

    if fail_under is not None and not 0 <= fail_under <= 1:
        raise SopAuditError(f"--fail-under {fail_under} must be a conformance rate from 0 to 1 (e.g. 0.8 for 80%)")
    plan = load_plan(plan_path)
    progress = _Progress(len(plan.jobs), 0)

    def started(to_run: int, unchanged: int, executor: str) -> None:
        progress.header(f"batch      {len(plan.jobs)} audit(s) from {plan_path}: {to_run} to run, "
                        f"{unchanged} unchanged; on {executor}")

    try:
        outcome = run_batch(plan, out, workers=workers, scheduler=scheduler, resume=resume, history=history,
                            on_start=started, on_done=progress.line)
    finally:
        progress.close()
    records, doc, history_error = outcome.records, outcome.doc, outcome.history_error
    failed = [r for r in records if r["status"] == "failed"]
    low = outcome.under(fail_under)
    c = doc["counts"]
    click.echo(f"done       {c['ok']} completed, {c['skipped']} unchanged, {c['failed']} failed")
    for r in failed:
        click.echo(f"failed     {r['error']}")
    for r in low:
        click.echo(f"under      {r['name']}: conformance {100 * r['metrics']['case_conformance_rate']:.1f}% "
                   f"< --fail-under {100 * fail_under:.1f}%")
    if history_error:
        click.echo(f"error: {history_error}", err=True)
    click.echo(f"index      {outcome.out / 'index.html'}")
    if failed or low or history_error:
        sys.exit(1)
