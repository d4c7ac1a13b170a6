"""Options several commands share, written once: the columns of an export and how its times
read (docs/mapping.md)."""

from __future__ import annotations

import click

_COLUMNS = (
    click.option("--case", default=None, help="Column holding the case id (application number)."),
    click.option("--activity", default=None, help="Column holding the step or status name."),
    click.option("--time", "time_col", default=None, help="Column holding the timestamp."),
    click.option("--resource", default=None, help="Column holding the officer."),
    click.option("--time-format", default=None,
                 help="auto, iso, dayfirst, monthfirst, excel, epoch, epoch_ms, or a strptime pattern like "
                 "'%d/%m/%Y %H:%M' (default: the mapping file's, else auto)."),
)


def column_options(func):
    """Add --case, --activity, --time (as `time_col`), --resource and --time-format to a command."""
    for option in reversed(_COLUMNS):
        func = option(func)
    return func
