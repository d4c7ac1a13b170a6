"""A gzip file decompressed by the system's zlib straight into one memory map.

Python 3.11's zlib module collects its output in blocks and joins them at the end: a second
copy of the whole text, made while holding the GIL, in fresh memory (on the 150,000-case XES
log, 181 MB copied while `sopaudit audit` imports pandas beside it). Here zlib's own `inflate`
writes into one anonymous memory map, sized by the gzip trailer and grown (mremap, no copy)
when the trailer understated it; ctypes lets go of the GIL for each call. The result has the
methods the XES readers use on bytes (find, rfind, slicing, regular expressions, the buffer
protocol) but not `count`.

`gunzip` gives None where this path does not apply (no libz.so.1, another z_stream layout);
the caller then uses the zlib module. zlib checks each member's CRC-32 and length, as the
module does."""

from __future__ import annotations

import ctypes
import mmap
import re

_Z_OK, _Z_STREAM_END, _Z_BUF_ERROR = 0, 1, -5
_NOT_ZERO = re.compile(rb"[^\0]")
_CALL_BYTES = 1 << 30  # avail_in and avail_out are 32-bit: at most this much per inflate call
_GROW_BYTES = 64 << 20


class _Stream(ctypes.Structure):
    """zlib's z_stream (zlib.h, unchanged since 1.0); inflateInit2_ refuses another size."""

    _fields_ = [("next_in", ctypes.c_void_p), ("avail_in", ctypes.c_uint), ("total_in", ctypes.c_ulong),
                ("next_out", ctypes.c_void_p), ("avail_out", ctypes.c_uint), ("total_out", ctypes.c_ulong),
                ("msg", ctypes.c_char_p), ("state", ctypes.c_void_p),
                ("zalloc", ctypes.c_void_p), ("zfree", ctypes.c_void_p), ("opaque", ctypes.c_void_p),
                ("data_type", ctypes.c_int), ("adler", ctypes.c_ulong), ("reserved", ctypes.c_ulong)]


def _library():
    try:
        z = ctypes.CDLL("libz.so.1")  # the zlib the interpreter's own zlib module is built on
    except OSError:
        return None
    stream = ctypes.POINTER(_Stream)
    z.zlibVersion.restype = ctypes.c_char_p
    z.inflateInit2_.argtypes = [stream, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    z.inflate.argtypes = [stream, ctypes.c_int]
    z.inflateReset.argtypes = [stream]
    z.inflateEnd.argtypes = [stream]
    return z


_ZLIB = _library()


class Unavailable(Exception):
    """This path cannot run here; the zlib module can."""


def gunzip(packed: bytes, limit: int) -> mmap.mmap | bytes | None:
    """Every member of the gzip file `packed`, decompressed; None when that is more than `limit`
    bytes or the file is damaged or cut short. Raises Unavailable when the system's zlib
    cannot be used."""
    if _ZLIB is None:
        raise Unavailable("no libz.so.1")
    hint = int.from_bytes(packed[-4:], "little")  # the last member's length, mod 4 GiB
    size = min(max(hint, 1 << 16), limit + 1)
    try:
        out = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)  # shared memory could not grow
    except (OSError, ValueError) as e:
        raise Unavailable(str(e)) from e
    stream = _Stream()
    if _ZLIB.inflateInit2_(ctypes.byref(stream), 31, _ZLIB.zlibVersion(), ctypes.sizeof(_Stream)) != 0:
        out.close()
        raise Unavailable("zlib refused this z_stream layout")
    try:
        done = _inflate(stream, packed, out, limit)
    finally:
        _ZLIB.inflateEnd(ctypes.byref(stream))
    if done is None:
        out.close()
        return None
    if done == 0:
        out.close()
        return b""
    if done < len(out):
        out.resize(done)
    return out


def _inflate(stream: _Stream, packed: bytes, out: mmap.mmap, limit: int) -> int | None:
    """Run inflate over every member into `out` (grown as needed); the bytes written, or None."""
    start = ctypes.cast(ctypes.c_char_p(packed), ctypes.c_void_p).value  # read, never written
    read = written = 0  # input handed to zlib, output it wrote
    while True:
        if stream.avail_in == 0 and read < len(packed):
            stream.next_in = start + read
            stream.avail_in = min(len(packed) - read, _CALL_BYTES)
            read += stream.avail_in
        if written == len(out):
            out.resize(min(limit + 1, max(2 * written, written + _GROW_BYTES)))
        view = (ctypes.c_char * (len(out) - written)).from_buffer(out, written)
        stream.next_out = ctypes.addressof(view)
        del view  # resize refuses while an export of the map lives
        stream.avail_out = room = min(len(out) - written, _CALL_BYTES)
        given = stream.avail_in
        code = _ZLIB.inflate(ctypes.byref(stream), 0)
        written += room - stream.avail_out
        if written > limit:
            return None
        if code == _Z_STREAM_END:
            # gzip allows zero bytes after a member; anything else begins the next member
            following = _NOT_ZERO.search(packed, read - stream.avail_in)
            if following is None:
                return written
            read = following.start()
            stream.avail_in = 0
            if _ZLIB.inflateReset(ctypes.byref(stream)) != 0:
                return None
        elif code not in (_Z_OK, _Z_BUF_ERROR):
            return None  # damaged: a bad block, CRC or length
        elif stream.avail_out and not stream.avail_in and read == len(packed):
            return None  # the input ended inside a member: cut short
        elif room == stream.avail_out and given == stream.avail_in:
            return None  # no progress (zlib would not move)
