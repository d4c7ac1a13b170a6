"""The bytes of an XES file for the fast readers (xes_fast.py), decompressed when it is .xes.gz."""

from __future__ import annotations

import mmap
import zlib
from pathlib import Path

from sopaudit.ingest import inflate

MAX_BYTES = 3 << 30  # larger files are read in a stream by expat rather than held in memory twice


def read_bytes(path: Path) -> bytes | mmap.mmap | None:
    """The file's XML as bytes (a memory map when inflate.py decompressed it); None when it is
    larger than MAX_BYTES or cannot be read or decompressed (the expat reader then reads it in a
    stream and reports the damage)."""
    try:
        if path.stat().st_size > MAX_BYTES:  # compressed or not, its XML is larger
            return None
        data = path.read_bytes()
        return gunzip(data, MAX_BYTES) if path.name.lower().endswith(".gz") else data
    except OSError:
        return None


def gunzip(packed: bytes, limit: int) -> bytes | mmap.mmap | None:
    """Every member of a gzip file, decompressed; None when that is more than `limit` bytes, a
    member is damaged (zlib checks each one's CRC and length) or the file ends inside one.

    By the system's zlib into one memory map (inflate.py) where it can; otherwise by the zlib
    module, in a few large calls rather than the gzip module's 128 KiB reads: zlib lets go of
    the GIL for each call, and a read ahead (ahead.py) that had to take the GIL back for every
    block would mostly wait for the imports running beside it."""
    try:
        return inflate.gunzip(packed, limit)
    except inflate.Unavailable:
        return _gunzip_module(packed, limit)


def _gunzip_module(packed: bytes, limit: int) -> bytes | None:
    try:
        return _members(packed, limit)
    except zlib.error:
        return None


def _members(packed: bytes, limit: int) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    while packed:
        # the last member's trailer gives its length (mod 4 GiB): a hint for the first call only
        hint = int.from_bytes(packed[-4:], "little") + 1 if not parts else 64 << 20
        member = zlib.decompressobj(wbits=31)
        rest = packed
        while not member.eof:
            out = member.decompress(rest, min(max(hint, 1 << 20), limit + 1 - size))
            parts.append(out)
            size += len(out)
            if size > limit:
                return None
            rest = member.unconsumed_tail
            if not rest and not out and not member.eof:
                return None  # cut short
            hint = 64 << 20
        packed = member.unused_data.lstrip(b"\0")  # gzip allows zero bytes after a member
    return b"".join(parts)
