"""The `sopaudit` command line. It calls the same public API a notebook uses and owns the
terminal: errors a user can cause are printed as one paragraph, with exit code 2."""

from __future__ import annotations

import atexit
import logging
import os
import sys

import click

from sopaudit import __version__
from sopaudit.cli.audit import audit, demo
from sopaudit.cli.batch import batch_command
from sopaudit.cli.compare import compare_command
from sopaudit.cli.discover import discover_command
from sopaudit.cli.history import history_command
from sopaudit.cli.ingest import ingest_command
from sopaudit.cli.sample import sample_command
from sopaudit.cli.simulate import simulate_command
from sopaudit.cli.sop import sop_group


@click.group()
@click.version_option(__version__, prog_name="sopaudit")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """Audit how a public service is really delivered against its written SOP."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


for command in (audit, demo, sop_group, discover_command, ingest_command, simulate_command,
                compare_command, sample_command, batch_command, history_command):
    main.add_command(command)


def run() -> None:
    """The `sopaudit` console script: `main` (OpenBLAS on one thread unless the user set
    OPENBLAS_NUM_THREADS), then, when it succeeded, an exit without the interpreter's teardown.

    The teardown frees every module and object one by one (about 0.2 s after a 150,000-case
    audit) in a process that is ending anyway. The exit handlers still run (logging, weakref
    finalizers, multiprocessing) and the standard streams are flushed; a failed command exits
    the usual way.
    """
    # sopaudit does no linear algebra, and OpenBLAS's idle threads spin for about 0.1 s of CPU
    # after numpy loads, beside the command's own threads (the read ahead, the scan): one, unless
    # the user chose otherwise. Here, before any command imports numpy.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        main()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (`sopaudit ... | head`): Python's own exit status for it
        os._exit(120)
    os._exit(0)


if __name__ == "__main__":
    run()
