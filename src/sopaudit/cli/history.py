"""`sopaudit history`: the trend of conformance per audit across batch runs."""

from __future__ import annotations

from pathlib import Path

import click

from sopaudit.cli.errors import user_errors


@click.command("history")
@click.option("--store", default="history.sqlite", show_default=True, metavar="URL",
              help="History store: a SQLAlchemy URL, an SQLite file or a batch output folder.")
@click.option("--office", default=None, help="Only the audits of this office (the plan's `office:`, else the name).")
@click.option("--chart", type=click.Path(path_type=Path), default=None,
              help="Also write the trend chart to this file (.png or .svg).")
@click.option("--lang", type=click.Choice(["id", "en"]), default="en", show_default=True, help="Chart language.")
@user_errors
def history_command(store, office, chart, lang) -> None:
    """Show the case conformance rate of each audit name across batch runs."""
    from sopaudit.history.store import read_runs
    from sopaudit.history.trend import trend_table, write_trend_chart

    runs = read_runs(store, office=office)
    if runs.empty:
        click.echo("no audits recorded" + (f" for office {office!r}" if office else ""))
        return
    table = trend_table(runs)
    shown = table.map(lambda v: "" if v != v else f"{100 * v:.1f}%")
    shown.index = [str(i) for i in shown.index]
    click.echo(f"case conformance rate (of finished cases) per batch run; {len(runs)} audit runs recorded")
    click.echo(shown.to_string())
    failed = runs[runs["status"] == "failed"]
    for _, r in failed.iterrows():
        click.echo(f"failed     {r['run_at']} {r['name']}: {(r['error'] or '').splitlines()[0][:200]}")
    if chart is not None:
        written = write_trend_chart(table, chart, lang)
        click.echo(f"chart      {written}" if written else "chart      nothing to draw (no completed audit)")
