"""Reading WARC/WET files record by record, bounded in memory, surviving corrupt input.

Common Crawl writes one gzip member per record. The reader decompresses member by member, a
bounded chunk at a time, and parses records from the decompressed stream as it comes:
- a corrupt gzip member is one bad unit; the reader scans forward to the next gzip header and goes
  on, so the file's other records are kept. A member cut short at the end of the file is
  `truncated_gzip`; one that inflates past `max_member_bytes` (a gzip bomb) is
  `member_too_large` and skipped the same way;
- every record boundary is checked: a `WARC/` version line, a header end within
  `max_header_bytes`, a `Content-Length` that is a number, not negative, at most
  `max_record_bytes` (else `record_too_large`, its bytes scanned past, never held), and that ends where the
  next record (or the file) begins — only blank lines between. A record that breaks a rule is one
  `bad_warc_record` unit and is not used (a too-short length would cut its text mid-word); the
  reader resynchronises on the next line starting `WARC/`, so one bad record never takes its
  neighbours with it, compressed or not.
An HTTP `response` record's payload is its body decoded (`http_body`: chunks joined, content codings
undone, within `max_decoded_bytes`); a body that breaks its own headers is one `http_*` unit.
Memory is one record plus a chunk, whatever the file or member size. Records are parsed here
(warcio's reader costs more than the rest of the path), headers read by name (the WET header layout
changed in 2020).
"""
from __future__ import annotations

import zlib
from typing import IO, Iterator, NamedTuple, Optional, Union

from pipeline.inputs import with_head
from pipeline.sources import http_body


GZIP_MAGIC = b"\x1f\x8b\x08"
CHUNK = 1 << 20


class Limits(NamedTuple):
    """Per-unit bounds (the recipe's `commoncrawl.warc_limits`)."""
    max_record_bytes: int = 64 << 20
    max_member_bytes: int = 256 << 20
    max_header_bytes: int = 1 << 16
    max_decoded_bytes: int = 64 << 20  # an HTTP body after its transfer and content codings

    @classmethod
    def from_recipe(cls, cfg: dict) -> "Limits":
        return cls(int(cfg["max_record_bytes"]), int(cfg["max_member_bytes"]), int(cfg["max_header_bytes"]),
                   int(cfg["max_decoded_bytes"]))


class BadUnit(NamedTuple):
    reason: str  # truncated_gzip | corrupt_gzip | member_too_large | bad_warc_record | record_too_large | http_*
    offset: int
    detail: str


class Record(NamedTuple):
    type: str
    headers: dict  # WARC headers by name
    http_headers: Optional[dict]
    payload: bytes
    offset: int


class _Member(NamedTuple):
    """Marks the start of gzip member `index` (at compressed offset `offset`) in the piece stream."""
    index: int
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


def _resync_gzip(buf: _Buffer) -> bool:
    """Drop bytes up to the next gzip header after the first byte; False at the end of the file."""
    searched = 1
    while True:
        nxt = buf.data.find(GZIP_MAGIC, searched)
        if nxt >= 0:
            buf.drop(nxt)
            return True
        searched = max(1, len(buf.data) - 2)
        if not buf.fill():
            buf.drop(len(buf.data))
            return False


def iter_pieces(stream: IO[bytes], max_member_bytes: int) -> Iterator[Union[bytes, _Member, BadUnit]]:
    """The decompressed bytes of a gzip-per-record file in chunks of at most CHUNK, a `_Member`
    before each member's bytes, and a `BadUnit` for each corrupt, truncated or oversized stretch."""
    buf = _Buffer(stream)
    in_corrupt_stretch = False  # one BadUnit per unreadable stretch, not per false resync
    index = 0
    while buf.data or buf.fill():
        d = zlib.decompressobj(31)
        produced = fed = 0
        tail = b""
        yield _Member(index, buf.base)  # even when it yields nothing: a unit boundary
        try:
            while True:
                if tail:
                    out = d.decompress(tail, CHUNK)
                else:
                    out = d.decompress(memoryview(buf.data)[fed:], CHUNK)
                    fed = len(buf.data)
                tail = d.unconsumed_tail
                produced += len(out)
                if produced > max_member_bytes:
                    raise _TooLarge()
                if out:
                    yield out
                if d.eof:
                    break
                if not tail and not buf.fill():
                    if not in_corrupt_stretch:
                        yield BadUnit("truncated_gzip", buf.base, "gzip member cut short at end of file")
                    return
        except (zlib.error, _TooLarge) as e:
            if isinstance(e, _TooLarge):
                yield BadUnit("member_too_large", buf.base, f"gzip member inflates past max_member_bytes={max_member_bytes}")
            elif not in_corrupt_stretch:
                yield BadUnit("corrupt_gzip", buf.base, f"zlib: {e}")
            in_corrupt_stretch = not isinstance(e, _TooLarge)
            index += 1
            if not _resync_gzip(buf):
                return
            continue
        buf.drop(fed - len(d.unused_data))
        in_corrupt_stretch = False
        index += 1


class _TooLarge(Exception):
    pass


def _plain_pieces(stream: IO[bytes]) -> Iterator[Union[bytes, _Member]]:
    yield _Member(0, 0)
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        yield chunk


def _parse_headers(raw: bytes, latin1: bool = False) -> dict:
    text = raw.decode("latin-1") if latin1 else raw.decode("utf-8", "replace")
    headers = {}
    for line in text.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower() if latin1 else name.strip()] = value.strip()
    return headers


def make_record(headers: dict, block: bytes, offset: int, limits: Limits = Limits(),
                where: Optional[int] = None) -> Union[Record, BadUnit]:
    """A record from its WARC headers and block; an HTTP response's payload is its body decoded
    (`http_body.decode`: chunks joined, content codings undone), or the record is a BadUnit
    (at `where`, default `offset`) when that body breaks its own headers."""
    rec_type = headers.get("WARC-Type", "")
    http, payload = None, block
    if (rec_type == "response" and block.startswith(b"HTTP/")) or rec_type == "request":
        http_end = block.find(b"\r\n\r\n")
        if http_end >= 0:
            http = _parse_headers(block[:http_end], latin1=True)
            payload = block[http_end + 4:]
            if rec_type == "response":
                status = block[:block.find(b"\r\n")].split(b" ", 2)
                code = int(status[1]) if len(status) > 1 and status[1].isdigit() else None
                payload = http_body.decode(http, payload, limits.max_decoded_bytes, "WARC-Truncated" in headers, code)
                if isinstance(payload, http_body.BodyError):
                    return BadUnit(payload.reason, offset if where is None else where, payload.detail)
    return Record(rec_type, headers, http, payload, offset)


class _RecordParser:
    """Records out of a stream of pieces (see `iter_pieces`); the buffer holds about one record.

    Positions in `data` are relative; `abs` is the stream offset of data[0]. `starts` are the
    stream offsets where gzip members begin (a record may begin there without a newline before
    it), `breaks` those where the bytes of a broken member are missing (no record spans one).
    """

    def __init__(self, pieces: Iterator, limits: Limits, compressed: bool):
        self.pieces = iter(pieces)
        self.limits = limits
        self.compressed = compressed
        self.data = bytearray()
        self.pos = 0
        self.abs = 0
        self.member = _Member(0, 0)
        self.member_abs = 0
        self.starts: list = []  # (stream offset, _Member) not yet passed
        self.breaks: list = []  # (stream offset, stream offset of the broken member's start)
        self.last_start = 0
        self.bad: list = []  # gzip-level BadUnits not yet reported
        self.eof = False

    def _pull(self) -> bool:
        """One more chunk of bytes into the buffer; False at the end of the stream."""
        for piece in self.pieces:
            if isinstance(piece, bytes):
                self.data += piece
                return True
            at = self.abs + len(self.data)
            if isinstance(piece, _Member):
                self.starts.append((at, piece))
                self.last_start = at
            else:
                self.bad.append(piece)
                self.breaks.append((at, self.last_start))
        self.eof = True
        return False

    def _compact(self) -> None:
        if self.pos:
            del self.data[: self.pos]
            self.abs += self.pos
            self.pos = 0

    def _advance_members(self) -> None:
        at = self.abs + self.pos
        while self.starts and self.starts[0][0] <= at:
            self.member_abs, self.member = self.starts.pop(0)

    def _offset(self, pos: int) -> int:
        return (self.member.index << 32) + (self.abs + pos - self.member_abs)

    def _where(self, pos: int) -> int:
        """Offset for the quarantine: the file offset, or the gzip member's compressed offset."""
        return self.member.offset if self.compressed else self.abs + pos

    def _boundary(self, pos: int) -> bool:
        """A member starts or a broken member ends at `pos`: a record may end right there."""
        at = self.abs + pos
        return any(b == at for b, _ in self.breaks) or any(a == at for a, _ in self.starts)

    def _broken(self, start: int, end: int) -> bool:
        return any(start < b - self.abs < end for b, _ in self.breaks)

    def _bad(self, unit: BadUnit, start_abs: int) -> Iterator[BadUnit]:
        """Report a bad record once `pos` has moved past it, unless the bytes it lacked were a
        broken gzip member's, the one it starts in (that member's own unit counts it)."""
        landing = self.abs + self.pos
        if any(start_abs < b <= landing and owner <= start_abs for b, owner in self.breaks):
            return
        yield unit

    def _resync(self, start: int) -> bool:
        """`pos` to the next place after `start` where a record may begin: a line starting `WARC/`
        or a gzip member's start. True when it is a member start (a new unit, not a false start
        inside the bad stretch)."""
        while True:
            nl = self.data.find(b"\nWARC/", max(start, 0))
            cand_nl = nl + 1 if nl >= 0 else None
            cand_m = next((a - self.abs for a, _ in self.starts if a - self.abs > start), None)
            if cand_m is not None and cand_m > len(self.data):
                cand_m = None
            found = [c for c in (cand_nl, cand_m) if c is not None]
            if found:
                self.pos = min(found)
                return self.pos == cand_m
            self.pos = max(start + 1, len(self.data) - 5)  # "\nWARC/" may straddle two chunks
            start = self.pos - 1
            if self.pos > CHUNK:
                start -= self.pos
                self._compact()
            if not self._pull():
                self.pos = len(self.data)
                return False

    def __iter__(self) -> Iterator[Union[Record, BadUnit]]:
        lim = self.limits
        data = self.data
        in_stretch = False  # reached by resynchronising on a `WARC/` line: a false start is not a new unit
        while True:
            yield from self._flush_bad()
            while True:  # blank lines between records
                while self.pos < len(self.data) and self.data[self.pos] in (10, 13):
                    self.pos += 1
                if self.pos < len(self.data) or not self._pull():
                    break
            if self.pos >= len(self.data):
                yield from self._flush_bad()
                return
            if self.pos > CHUNK:
                self._compact()
            data = self.data
            self._advance_members()
            start = self.pos
            start_abs = self.abs + start
            self.breaks = [b for b in self.breaks if b[0] >= start_abs]
            while True:
                head_end = data.find(b"\r\n\r\n", start, start + lim.max_header_bytes + 4)
                if head_end >= 0 or len(data) - start > lim.max_header_bytes + 4 or not self._pull():
                    break
            problem = None
            if not data.startswith(b"WARC/", start):
                problem = "no WARC/ version line where a record should start"
            elif head_end < 0:
                problem = f"no header end within {lim.max_header_bytes} bytes"
            else:
                headers = _parse_headers(bytes(data[start:head_end]))
                try:
                    length = int(headers.get("Content-Length", ""))
                except ValueError:
                    length = -1
                if length < 0:
                    problem = f"missing or bad Content-Length {headers.get('Content-Length', '')!r}"
            if problem is not None:
                unit = BadUnit("bad_warc_record", self._where(start), problem)
                counted = not in_stretch
                in_stretch = not self._resync(start)
                if counted:
                    yield from self._bad(unit, start_abs)
                continue
            block_start = head_end + 4
            if length > lim.max_record_bytes:
                unit = BadUnit("record_too_large", self._where(start),
                               f"Content-Length {length} over max_record_bytes={lim.max_record_bytes}")
                # Not skipped by its length (a wrong one would swallow the file): scanned for the
                # next record start without holding the bytes.
                in_stretch = not self._resync(start)
                yield from self._bad(unit, start_abs)
                continue
            block_end = block_start + length
            while len(data) < block_end and self._pull():
                pass
            if len(data) < block_end or self._broken(start, block_end):
                unit = BadUnit("bad_warc_record", self._where(start), f"record shorter than its Content-Length {length}")
                counted = not in_stretch
                in_stretch = not self._resync(start)
                if counted:
                    yield from self._bad(unit, start_abs)
                continue
            # The block must end where the next record (or the stream, or the member) begins.
            after = block_end
            while True:
                while after < len(data) and data[after] in (10, 13):
                    after += 1
                if len(data) - after >= 5 or self._boundary(after) or not self._pull():
                    break
            if after < len(data) and not data.startswith(b"WARC/", after) and not self._boundary(after):
                unit = BadUnit("bad_warc_record", self._where(start),
                               f"Content-Length {length} does not end where the next record begins")
                counted = not in_stretch
                in_stretch = not self._resync(start)
                if counted:
                    yield from self._bad(unit, start_abs)
                continue
            record = make_record(headers, bytes(data[block_start:block_end]), self._offset(start), lim, self._where(start))
            self.pos = block_end
            in_stretch = False
            yield record

    def _flush_bad(self):
        while self.bad:
            yield self.bad.pop(0)


def parse_records(data: bytes, base_offset: int = 0, limits: Limits = Limits()) -> Iterator[Union[Record, BadUnit]]:
    """WARC records in `data` (one gzip member's worth, or a whole uncompressed file)."""
    pieces = iter([_Member(base_offset >> 32, 0), bytes(data)])
    return iter(_RecordParser(pieces, limits, compressed=False))


def iter_records(stream: IO[bytes], limits: Limits = Limits()) -> Iterator[Union[Record, BadUnit]]:
    """WARC records of a gzip-per-record (or plain) WARC/WET file, and `BadUnit`s for what cannot be read."""
    head = stream.read(2)
    rest = with_head(head, stream, CHUNK)
    if head != GZIP_MAGIC[:2]:
        return iter(_RecordParser(_plain_pieces(rest), limits, compressed=False))
    return iter(_RecordParser(iter_pieces(rest, limits.max_member_bytes), limits, compressed=True))
