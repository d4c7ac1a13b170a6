"""Atomic outputs: a folder or file appears complete or not at all, never half written.

A folder is written into a temporary sibling and renamed over the target; an earlier folder of
the same name is moved aside first and deleted after the rename, so a crash leaves either the
old complete folder or the new one (plus a hidden leftover that the next run deletes).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside `target`; on success it replaces `target`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp = target.parent / f".{target.name}.tmp-{token}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old-{token}"
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def atomic_write(path: str | Path, data: bytes | str) -> Path:
    """Write a file through a temporary sibling and a rename."""
    path = Path(path)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def clean_leftovers(out: str | Path) -> None:
    """Delete the temporary folders and files an interrupted batch left in `out`."""
    for p in Path(out).glob(".*"):
        if ".tmp-" in p.name or ".old-" in p.name or ".parts-" in p.name:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
