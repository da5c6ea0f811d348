"""Reading WARC/WET files record by record, surviving corrupt gzip members.

Common Crawl writes one gzip member per record. `iter_members` decompresses member by member; when
a member is corrupt it reports one bad unit, scans forward to the next gzip header, and goes on, so
the file's other records are kept. A member cut short at the end of the file is reported as
truncated. Records are parsed with warcio, headers read by name (the WET header layout changed in 2020).
"""
from __future__ import annotations

import io
import zlib
from typing import IO, Iterator, NamedTuple, Optional, Union

from warcio.archiveiterator import ArchiveIterator

GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 20


class BadUnit(NamedTuple):
    reason: str  # truncated_gzip | corrupt_gzip | bad_warc_record
    offset: int
    detail: str


class Record(NamedTuple):
    type: str
    headers: dict  # WARC headers by name
    http_headers: Optional[dict]
    payload: bytes
    offset: int


class _Buffer:
    """Compressed bytes read so far but not consumed; `base` is the file offset of data[0]."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.data = bytearray()
        self.base = 0

    def fill(self) -> bool:
        chunk = self.stream.read(CHUNK)
        self.data += chunk
        return bool(chunk)

    def drop(self, n: int) -> None:
        del self.data[:n]
        self.base += n


def iter_members(stream: IO[bytes]) -> Iterator[Union[bytes, BadUnit]]:
    """Each gzip member's decompressed bytes, or a `BadUnit` for a corrupt or truncated stretch."""
    buf = _Buffer(stream)
    in_corrupt_stretch = False  # one BadUnit per unreadable stretch, not per false resync
    while buf.data or buf.fill():
        d = zlib.decompressobj(31)
        out = []
        fed = 0
        try:
            while True:
                out.append(d.decompress(memoryview(buf.data)[fed:]))
                fed = len(buf.data)
                if d.eof:
                    break
                if not buf.fill():
                    if not in_corrupt_stretch:
                        yield BadUnit("truncated_gzip", buf.base, "gzip member cut short at end of file")
                    return
        except zlib.error as e:
            if not in_corrupt_stretch:
                yield BadUnit("corrupt_gzip", buf.base, f"zlib: {e}")
            in_corrupt_stretch = True
            # Resynchronise on the next gzip header after this member's first byte.
            searched = 1
            while True:
                nxt = buf.data.find(GZIP_MAGIC, searched)
                if nxt >= 0:
                    buf.drop(nxt)
                    break
                searched = max(1, len(buf.data) - 2)
                if not buf.fill():
                    return
            continue
        buf.drop(fed - len(d.unused_data))
        in_corrupt_stretch = False
        yield b"".join(out)


def iter_records(stream: IO[bytes]) -> Iterator[Union[Record, BadUnit]]:
    """WARC records of a gzip-per-record (or plain) WARC/WET file, and `BadUnit`s for what cannot be read."""
    head = stream.read(2)
    rest = io.BufferedReader(_Prepend(head, stream), CHUNK) if head else io.BytesIO(b"")
    if head != GZIP_MAGIC[:2]:
        members: Iterator[Union[bytes, BadUnit]] = iter([rest.read()])
    else:
        members = iter_members(rest)
    offset = 0
    for member in members:
        if isinstance(member, BadUnit):
            yield member
            continue
        try:
            for rec in ArchiveIterator(io.BytesIO(member), check_digests=False):
                http = None
                if rec.http_headers is not None:
                    http = {k.lower(): v for k, v in rec.http_headers.headers}
                yield Record(rec.rec_type, dict(rec.rec_headers.headers), http, rec.content_stream().read(), offset)
        except Exception as e:  # warcio raises assorted errors on malformed records
            yield BadUnit("bad_warc_record", offset, f"{type(e).__name__}: {e}")
        offset += 1


class _Prepend(io.RawIOBase):
    """A raw stream of `head` followed by `stream` (we peeked at the magic bytes)."""

    def __init__(self, head: bytes, stream: IO[bytes]):
        self.head = head
        self.stream = stream

    def readable(self):
        return True

    def readinto(self, b):
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.stream.read(len(b))
        b[: len(data)] = data
        return len(data)
