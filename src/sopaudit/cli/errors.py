"""One place for the errors a user can cause: printed as one paragraph, no traceback, exit 2."""

from __future__ import annotations

import functools
import sys

import click

from sopaudit.core.errors import SopAuditError


def user_errors(func):
    """Print SopAuditError as a message (no traceback) and exit with its code (2)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SopAuditError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper
