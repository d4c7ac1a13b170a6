"""Write output files and folders all-or-nothing.

Every file of a run is written under a temporary name beside its target and moved into place
when the whole run has succeeded, so a killed or failed run never leaves a file that looks
complete. In a folder, the completion mark (`summary.json` for a report) is moved last, and the
files an earlier run wrote that this run did not (a stale `rejected_rows.csv`) are removed
first. Moving replaces a symbolic link by the new file: a link in the folder is never followed
out of it. The checks run before the work starts, so a bad `--out` costs no audit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from sopaudit.core.errors import OutputPathError

# Pseudo file systems: writing there is never what an auditor means.
_SYSTEM = ("/proc", "/sys", "/dev")
PARTIAL = ".partial-"


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _existing_ancestor(path: Path) -> Path:
    for p in (path, *path.parents):
        if os.path.lexists(p):
            return p
    return Path("/")


def _check_place(path: Path, real: Path, what: str, flag: str) -> None:
    if any(real == Path(s) or Path(s) in real.parents for s in _SYSTEM):
        raise OutputPathError(f"{flag} {path}: {real} is a system folder, not a place for {what}; "
                              "choose a folder of your own")
    base = _existing_ancestor(real)
    if not base.is_dir():
        raise OutputPathError(f"{flag} {path}: {base} is a file, so nothing can be written under it; "
                              "choose another path")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputPathError(f"{flag} {path}: no permission to write in {base}; choose a folder you can "
                              "write to")


def _check_inputs(real_out: Path, inputs: Iterable, flag: str, path: Path, folder: bool) -> None:
    for item in inputs:
        if not item or "://" in str(item) or not os.path.lexists(item):
            continue  # a database URL, or a name that is no file (an SOP built in memory)
        src = _real(Path(item))
        if src == real_out or (folder and real_out in src.parents):
            where = "is" if src == real_out else "holds"
            raise OutputPathError(
                f"{flag} {path} {where} the input file {item}; write the output somewhere else so "
                "no input is ever overwritten or mixed with the results")


def check_out_dir(out: str | Path, inputs: Iterable = (), flag: str = "--out") -> Path:
    """The real path of an output folder, or OutputPathError when it is a file, lies under a file,
    cannot be written, is a system folder, or holds one of `inputs`."""
    path = Path(out)
    if os.path.lexists(path) and not path.is_dir():
        raise OutputPathError(f"{flag} {path} is a file, not a folder; name a folder for the output files")
    real = _real(path)
    _check_place(path, real, "the output files", flag)
    _check_inputs(real, inputs, flag, path, folder=True)
    return real


def check_out_file(out: str | Path, inputs: Iterable = (), flag: str = "-o") -> Path:
    """The path of an output file, or OutputPathError when it is a folder, lies under a file,
    cannot be written, is in a system folder, or is one of `inputs`."""
    path = Path(out)
    if path.is_dir():
        raise OutputPathError(f"{flag} {path} is a folder; name the file to write")
    real = _real(path.parent) / path.name  # a link named as the output is replaced, not followed
    _check_place(path, real.parent, "an output file", flag)
    _check_inputs(_real(path), inputs, flag, path, folder=False)
    return path


def _partial_name(target: Path) -> Path:
    # the real name stays at the end: writers choose the format by the suffix (.parquet, .xes.gz)
    return target.with_name(f"{PARTIAL}{secrets.token_hex(4)}-{target.name}")


@contextlib.contextmanager
def staged_files(*targets: str | Path | None, inputs: Iterable = ()) -> Iterator[list[Path | None]]:
    """Temporary paths beside `targets` (None stays None); each is renamed onto its target when
    the block ends without an error, and removed when it fails."""
    paths = [None if t is None else check_out_file(t, inputs) for t in targets]
    for p in paths:
        if p is not None:
            p.parent.mkdir(parents=True, exist_ok=True)
    temps = [None if p is None else _partial_name(p) for p in paths]
    try:
        yield temps
    except BaseException:
        for t in temps:
            if t is not None:
                with contextlib.suppress(OSError):
                    t.unlink()
        raise
    for t, p in zip(temps, paths, strict=True):
        if t is not None and t.exists():
            os.replace(t, p)


@contextlib.contextmanager
def staged_folder(out: str | Path, owned: Iterable[str], mark: str | None = None,
                  inputs: Iterable = ()) -> Iterator[Path]:
    """A temporary folder beside `out` to write into; when the block ends without an error its
    files replace those of `out` (the `mark` file last), and the files named in `owned` that this
    run did not write are removed. On an error the temporary folder is removed and `out` is left
    as it was."""
    real = check_out_dir(out, inputs)
    real.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{real.name}{PARTIAL}", dir=real.parent))
    except PermissionError:  # a folder the user may write in, under one they may not
        real.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=PARTIAL, dir=real))
    try:
        yield tmp
        _commit(tmp, real, set(owned), mark)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _commit(tmp: Path, real: Path, owned: set[str], mark: str | None) -> None:
    names = sorted(p.name for p in tmp.iterdir())
    if not os.path.lexists(real):
        tmp.chmod(0o777 & ~_umask())  # mkdtemp made it private; the folder gets the usual mode
        os.rename(tmp, real)
        return
    for name in names:
        if (real / name).is_dir() and not (real / name).is_symlink():
            raise OutputPathError(f"{real / name} is a folder; remove it so the file {name} can be written")
    # the completion mark goes first and comes back last: between, the folder is visibly unfinished
    stale = [n for n in owned if n not in names or n == mark]
    for name in sorted(stale, key=lambda n: n != mark):
        target = real / name
        if os.path.lexists(target) and (target.is_symlink() or not target.is_dir()):
            target.unlink()
    for name in sorted(names, key=lambda n: n == mark):
        try:
            os.replace(tmp / name, real / name)
        except OSError:  # another file system (a mount point): copy, then rename on the target side
            part = _partial_name(real / name)
            shutil.copy2(tmp / name, part)
            os.replace(part, real / name)


def write_staged(path: str | Path, data: bytes | str) -> Path:
    """Write one file all or nothing (text as UTF-8); returns its path."""
    with staged_files(path) as (tmp,):
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


@contextlib.contextmanager
def replaced_folder(target: str | Path) -> Iterator[Path]:
    """An empty temporary folder beside `target` that replaces the whole of `target` when the
    block ends without an error (a batch's audit folder: the old one stays until the new one is
    complete, and is then deleted); removed when the block fails."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(6)
    tmp = target.parent / f"{PARTIAL}{token}-{target.name}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.parent / f"{PARTIAL}{token}-old-{target.name}"
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def remove_partials(folder: str | Path) -> None:
    """Delete what an interrupted run left in `folder` under a temporary name."""
    for p in Path(folder).glob(f"{PARTIAL}*"):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

