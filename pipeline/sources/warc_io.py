"""Reading WARC/WET files record by record, surviving corrupt gzip members.

Common Crawl writes one gzip member per record. `iter_members` decompresses member by member; when
a member is corrupt it reports one bad unit, scans forward to the next gzip header, and goes on, so
the file's other records are kept. A member cut short at the end of the file is reported as
truncated. Records are parsed here (warcio's reader costs more than the rest of the path), headers read by name (the WET header layout changed in 2020).
"""
from __future__ import annotations

import zlib
from typing import IO, Iterator, NamedTuple, Optional, Union

from pipeline.inputs import with_head


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


def parse_records(data: bytes, base_offset: int = 0) -> Iterator[Union[Record, BadUnit]]:
    """WARC records in `data` (one gzip member's worth, or a whole uncompressed file).

    Headers are read by name; the content is exactly Content-Length bytes. A record that breaks
    these rules ends the member as one `BadUnit`.
    """
    pos = 0
    end = len(data)
    while pos < end:
        while pos < end and data[pos:pos + 1] in (b"\r", b"\n"):
            pos += 1  # blank lines between records
        if pos >= end:
            return
        head_end = data.find(b"\r\n\r\n", pos)
        if not data.startswith(b"WARC/", pos) or head_end < 0:
            yield BadUnit("bad_warc_record", base_offset + pos, "no WARC/ version line or header end")
            return
        lines = data[pos:head_end].decode("utf-8", "replace").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip()] = value.strip()
        try:
            length = int(headers.get("Content-Length", ""))
        except ValueError:
            yield BadUnit("bad_warc_record", base_offset + pos, "missing or bad Content-Length")
            return
        start = head_end + 4
        if start + length > end:
            yield BadUnit("bad_warc_record", base_offset + pos, "record shorter than its Content-Length")
            return
        block = data[start:start + length]
        rec_type = headers.get("WARC-Type", "")
        http, payload = None, block
        if (rec_type == "response" and block.startswith(b"HTTP/")) or rec_type == "request":
            http_end = block.find(b"\r\n\r\n")
            if http_end >= 0:
                http = {}
                for line in block[:http_end].decode("latin-1").split("\r\n")[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        http[name.strip().lower()] = value.strip()
                payload = block[http_end + 4:]
        yield Record(rec_type, headers, http, payload, base_offset + pos)
        pos = start + length


def iter_records(stream: IO[bytes]) -> Iterator[Union[Record, BadUnit]]:
    """WARC records of a gzip-per-record (or plain) WARC/WET file, and `BadUnit`s for what cannot be read."""
    head = stream.read(2)
    rest = with_head(head, stream, CHUNK)
    if head != GZIP_MAGIC[:2]:
        yield from parse_records(rest.read())
        return
    for n, member in enumerate(iter_members(rest)):
        if isinstance(member, BadUnit):
            yield member
        else:
            yield from parse_records(member, base_offset=n << 32)
