"""Files kept between runs in the user's cache folder: things that cost time to make and come
out the same every time (the compiled page template, a country's holiday table). The folder is
$XDG_CACHE_HOME/sopaudit/<kind>, by default ~/.cache/sopaudit/<kind>. A folder that cannot be
made or written only means no cache: never an error, never a different result."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_folder(kind: str) -> Path | None:
    """The folder for `kind`, made if needed; None when it cannot be made."""
    try:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sopaudit" / kind
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # RuntimeError: no home folder
        return None
    return folder


def read_json(kind: str, name: str) -> Any | None:
    """What `write_json` stored under `name`; None when there is none or it cannot be read."""
    folder = cache_folder(kind)
    if folder is None:
        return None
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(kind: str, name: str, value: Any) -> None:
    """Store `value` under `name`, whole or not at all (a temporary file renamed into place, so
    a concurrent reader never sees half of it)."""
    folder = cache_folder(kind)
    if folder is None:
        return
    tmp = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=folder, suffix=".tmp", delete=False) as f:
            tmp = f.name
            json.dump(value, f, ensure_ascii=False)
        os.replace(tmp, folder / name)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
