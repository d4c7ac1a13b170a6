"""Reading an XES log's bytes in a thread while the command line still imports what the audit
needs (pandas and the rest, about half a second): zlib lets go of the GIL while it decompresses,
so on two cores the two overlap (the 150,000-case XES.gz: its 0.25 s of gunzip leave the wall
time; docs/performance.md). Scanning the events there too was slower: the scan's own two
threads and the imports then fight over the cores and the GIL.

`start` is called by `sopaudit audit` before those imports; the fast reader (xes_fast.py)
`take`s the bytes. Only the standard library is imported here, so that starting costs none."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sopaudit.ingest.xes_bytes import read_bytes

MISSING = object()  # nothing was read ahead for this file, or it changed since

# absolute path -> (its size and change time when the read began, the thread, its result)
_AHEAD: dict[Path, tuple[tuple[int, int] | None, threading.Thread, list]] = {}


def start(path) -> None:
    """Begin `xes_bytes.read_bytes(path)` in a thread when `path` names an XES file."""
    path = Path(path).absolute()
    if not path.name.lower().endswith((".xes", ".xes.gz")) or path in _AHEAD:
        return
    box: list = []

    def read() -> None:
        box.append(read_bytes(path))  # an unexpected error leaves the box empty: read again

    thread = threading.Thread(target=read, name="sopaudit-read-ahead", daemon=True)
    _AHEAD[path] = (_stamp(path), thread, box)
    thread.start()


def take(path):
    """What the thread read for `path` (read_bytes' result, None included), once it is done;
    MISSING when there was no read ahead, it failed, or the file changed since it began."""
    ahead = _AHEAD.pop(Path(path).absolute(), None)
    if ahead is None:
        return MISSING
    stamp, thread, box = ahead
    thread.join()
    return box[0] if box and stamp is not None and _stamp(path) == stamp else MISSING


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns
