"""Progress of the steps that can take more than a few seconds (reading a log, auditing,
writing the report, mining models): a tqdm bar on a terminal and in a notebook, plain log lines
(logger `sopaudit`, shown by `sopaudit -v`) when the output goes to a file or a pipe.

`SOPAUDIT_PROGRESS=0` in the environment switches the bars off (log lines only);
`SOPAUDIT_PROGRESS=1` forces them on. Library code calls `step(...)`; it never prints otherwise.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

logger = logging.getLogger("sopaudit")
T = TypeVar("T")


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and type(shell.get_ipython()).__name__ == "ZMQInteractiveShell"
    except Exception:  # noqa: BLE001 - any doubt: not a notebook
        return False


def bars_shown() -> bool:
    """Whether progress appears as bars (terminal or notebook) rather than log lines."""
    setting = os.environ.get("SOPAUDIT_PROGRESS", "").strip()
    if setting in ("0", "1"):
        return setting == "1"
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) or _in_notebook()


def _bar(text: str, total: int | None):
    if _in_notebook():
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(total=total, desc=text, unit="" if total is None else " it", leave=False, dynamic_ncols=True,
                bar_format=None if total else "{desc}: {elapsed}")


@contextmanager
def step(text: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """One step: a bar while it runs (with `total`, advanced by the callable it yields), and a
    line with its duration when it ends."""
    started, cpu = time.perf_counter(), time.process_time()
    bar = _bar(text, total) if bars_shown() else None
    if bar is None:
        logger.info("%s ...", text)

    def advance(n: int = 1) -> None:
        if bar is not None:
            bar.update(n)

    try:
        yield advance
    finally:
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        if bar is not None:
            bar.close()
        # CPU time beside the wall time: on a busy machine the wall time also holds waits for a core.
        logger.info("%s: %.1f s (CPU %.1f s)", text, seconds, cpu)


def iterate(items: Iterable[T], text: str, total: int | None = None) -> Iterator[T]:
    """The items, with a bar advancing by one per item."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with step(text, total) as advance:
        for item in items:
            yield item
            advance(1)


def note(text: str) -> None:
    """A one-line message about what runs now (above any bar on a terminal)."""
    if bars_shown():
        from tqdm import tqdm

        tqdm.write(text, file=sys.stderr)
    else:
        logger.info("%s", text)
