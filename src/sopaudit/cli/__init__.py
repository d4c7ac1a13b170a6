"""The `sopaudit` command line. It calls the same public API a notebook uses and owns the
terminal: errors a user can cause are printed as one paragraph, with exit code 2."""

from __future__ import annotations

import atexit
import ctypes
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

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameters (malloc.h)


@click.group()
@click.version_option(__version__, prog_name="sopaudit")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """Audit how a public service is really delivered against its written SOP."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


for command in (audit, demo, sop_group, discover_command, ingest_command, simulate_command,
                compare_command, sample_command, batch_command, history_command):
    main.add_command(command)


def tune_process() -> None:
    """Settings for the command's own process, made before any command imports numpy:

    - OpenBLAS on one thread, unless the user set OPENBLAS_NUM_THREADS: sopaudit does no linear
      algebra, and OpenBLAS's idle threads spin for about 0.1 s of CPU after numpy loads, beside
      the command's own threads (the read ahead, the scan).
    - glibc's malloc keeps freed memory for reuse: blocks up to 32 MiB come from its heap, not
      from a fresh mapping each, and up to 256 MiB of free heap is kept. Every new page costs a
      fault (0.1 to 0.4 s of system time for a 150,000-case audit); the arrays of the audit and
      the reports are mostly a few MB, allocated and freed many times. Elsewhere (another C
      library, no mallopt) nothing is changed."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return
    except (AttributeError, ValueError, OSError):  # no confstr, or not this name: not glibc
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)  # glibc's largest; fixed, so no longer adjusted as it runs
    mallopt(_M_TRIM_THRESHOLD, 256 << 20)


def run() -> None:
    """The `sopaudit` console script: `main` in a tuned process (`tune_process`), then, when it
    succeeded, an exit without the interpreter's teardown.

    The teardown frees every module and object one by one (about 0.2 s after a 150,000-case
    audit) in a process that is ending anyway. The exit handlers still run (logging, weakref
    finalizers, multiprocessing) and the standard streams are flushed; a failed command exits
    the usual way.
    """
    tune_process()
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
