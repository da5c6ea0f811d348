"""The body of an HTTP response as a WARC stores it → the bytes of the page, as warcio's
`content_stream()` gives them: `Transfer-Encoding: chunked` taken apart, then any other transfer
coding (`gzip, chunked`), then each `Content-Encoding` (gzip, x-gzip, deflate, br, zstd, identity),
each list last applied first (RFC 9112 §6.1: transfer codings are applied over content codings).

Unlike warcio, which reads a body it cannot decode as if it were not encoded, a body that breaks its
own headers is one bad unit, named by a reason:
- `http_bad_chunking`: a chunk-size line that is not hexadecimal, or a chunk not followed by CRLF;
- `http_truncated_body`: cut short — no last (zero) chunk, a gzip/deflate/brotli/zstd stream that
  does not finish, or fewer bytes than the response's own `Content-Length`. What cannot be seen is
  not claimed: an unencoded body without a length ends where the record ends. A record the crawler
  marked `WARC-Truncated` is decoded as far as it goes (Common Crawl cuts pages at 1 MiB that way);
- `http_bad_encoding`: encoded bytes that do not decode;
- `http_unknown_encoding`: a content coding that is none of the above (`compress`, `sdch`);
- `http_body_too_large`: decoding would produce more than `max_bytes` (a gzip bomb costs the limit).
Common Crawl's own WARCs hold bodies already decoded, with the original headers renamed
`X-Crawler-Content-Encoding` etc.: those are left alone, as they should be.
"""
from __future__ import annotations

import zlib
from typing import List, NamedTuple, Optional, Union

BAD_CHUNKING = "http_bad_chunking"
TRUNCATED = "http_truncated_body"
BAD_ENCODING = "http_bad_encoding"
UNKNOWN_ENCODING = "http_unknown_encoding"
TOO_LARGE = "http_body_too_large"

_MAX_CHUNK_LINE = 4096  # a chunk-size line with extensions; longer is not a chunk-size line
_STEP = 1 << 16  # output produced per decompressor call: the size bound is checked this often
_ZSTD_FEED = 256  # input fed to zstd per call: bounds its output per call (no max_length there)


class BodyError(NamedTuple):
    reason: str  # one of the constants above (without `bad_input:`)
    detail: str


class _Fail(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.error = BodyError(reason, detail)


def _line_end(data: bytes, pos: int) -> int:
    """Index of the LF ending the line at `pos`, or -1 (a line over _MAX_CHUNK_LINE is not one)."""
    return data.find(b"\n", pos, pos + _MAX_CHUNK_LINE)


def dechunk(body: bytes, cut_ok: bool = False) -> bytes:
    """RFC 9112 §7.1 chunked body → its data. Chunk extensions and trailer fields are read past;
    a bare LF is taken for CRLF (as most parsers do). Raises _Fail."""
    out: List[bytes] = []
    pos, n = 0, len(body)
    while True:
        if pos >= n:
            if cut_ok:
                return b"".join(out)
            raise _Fail(TRUNCATED, f"chunked body ends after {len(out)} chunks without its last (zero) chunk")
        end = _line_end(body, pos)
        if end < 0:
            if n - pos >= _MAX_CHUNK_LINE:
                raise _Fail(BAD_CHUNKING, f"no chunk-size line end within {_MAX_CHUNK_LINE} bytes at byte {pos}")
            if body[pos:].rstrip(b"\r").split(b";", 1)[0].strip() == b"0":
                return b"".join(out)  # the last chunk, its line end lost: nothing is missing
            if cut_ok:
                return b"".join(out)
            raise _Fail(TRUNCATED, f"chunked body cut inside a chunk-size line at byte {pos}")
        size_text = body[pos:end].split(b";", 1)[0].strip()
        try:
            if not size_text or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                raise ValueError
            size = int(size_text, 16)
        except ValueError:
            raise _Fail(BAD_CHUNKING, f"chunk-size line {body[pos:end][:40]!r} at byte {pos} is not hexadecimal") from None
        pos = end + 1
        if size == 0:
            return b"".join(out)  # trailer fields, if any, are not the page
        if pos + size > n:
            if cut_ok:
                out.append(body[pos:])
                return b"".join(out)
            raise _Fail(TRUNCATED, f"chunk of {size} bytes at byte {pos} cut after {n - pos}")
        out.append(body[pos:pos + size])
        pos += size
        if body.startswith(b"\r\n", pos):
            pos += 2
        elif body.startswith(b"\n", pos):
            pos += 1
        elif pos >= n or (pos == n - 1 and body[pos:] == b"\r"):
            if cut_ok:
                return b"".join(out)
            raise _Fail(TRUNCATED, "chunked body cut after a chunk's data")
        else:
            raise _Fail(BAD_CHUNKING, f"chunk data at byte {pos - size} not followed by CRLF")


def _zlib_stream(data: bytes, wbits: int, max_bytes: int, name: str, cut_ok: bool) -> bytes:
    out: List[bytes] = []
    total = 0
    while True:  # gzip allows several members one after the other (RFC 1952 §2.2)
        d = zlib.decompressobj(wbits)
        try:
            piece = d.decompress(data, _STEP)
            while True:
                total += len(piece)
                if total > max_bytes:
                    raise _Fail(TOO_LARGE, f"{name} body inflates past max_decoded_bytes={max_bytes}")
                out.append(piece)
                if d.eof or not d.unconsumed_tail:
                    break
                piece = d.decompress(d.unconsumed_tail, _STEP)
            if not d.eof:
                tail = d.flush()
                total += len(tail)
                if total > max_bytes:
                    raise _Fail(TOO_LARGE, f"{name} body inflates past max_decoded_bytes={max_bytes}")
                out.append(tail)
        except zlib.error as e:
            raise _Fail(BAD_ENCODING, f"{name}: zlib: {e}") from None
        if not d.eof:
            if cut_ok:
                return b"".join(out)
            raise _Fail(TRUNCATED, f"{name} stream does not finish (the body was cut)")
        data = d.unused_data
        # Another gzip member follows, or the rest is padding/garbage that decoders ignore.
        if wbits != 31 or not data.startswith(b"\x1f\x8b"):
            return b"".join(out)


def _gzip(data: bytes, max_bytes: int, cut_ok: bool) -> bytes:
    if not data.startswith(b"\x1f\x8b"):
        raise _Fail(BAD_ENCODING, "gzip: no gzip header")
    return _zlib_stream(data, 31, max_bytes, "gzip", cut_ok)


def _deflate(data: bytes, max_bytes: int, cut_ok: bool) -> bytes:
    # "deflate" is zlib-wrapped by the RFC, raw deflate from many servers: browsers take both.
    wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
    return _zlib_stream(data, 15 if wrapped else -15, max_bytes, "deflate", cut_ok)


def _brotli(data: bytes, max_bytes: int, cut_ok: bool) -> bytes:
    import brotli

    d = brotli.Decompressor()
    out: List[bytes] = []
    total = 0
    try:
        piece = d.process(data, output_buffer_limit=_STEP)
        while True:
            total += len(piece)
            if total > max_bytes:
                raise _Fail(TOO_LARGE, f"br body inflates past max_decoded_bytes={max_bytes}")
            out.append(piece)
            if d.is_finished() or d.can_accept_more_data():
                break
            piece = d.process(b"", output_buffer_limit=_STEP)
    except brotli.error as e:
        raise _Fail(BAD_ENCODING, f"br: {e}") from None
    if not d.is_finished() and not cut_ok:
        raise _Fail(TRUNCATED, "br stream does not finish (the body was cut)")
    return b"".join(out)


def _zstd(data: bytes, max_bytes: int, cut_ok: bool) -> bytes:
    import zstandard

    d = zstandard.ZstdDecompressor().decompressobj()
    out: List[bytes] = []
    total = 0
    try:
        for pos in range(0, len(data), _ZSTD_FEED):
            piece = d.decompress(data[pos:pos + _ZSTD_FEED])
            total += len(piece)
            if total > max_bytes:
                raise _Fail(TOO_LARGE, f"zstd body inflates past max_decoded_bytes={max_bytes}")
            out.append(piece)
            if d.eof:
                break
    except zstandard.ZstdError as e:
        raise _Fail(BAD_ENCODING, f"zstd: {e}") from None
    if not d.eof and not cut_ok:
        raise _Fail(TRUNCATED, "zstd stream does not finish (the body was cut)")
    return b"".join(out)


_DECODERS: dict = {"gzip": _gzip, "x-gzip": _gzip, "deflate": _deflate, "br": _brotli, "zstd": _zstd}


def _codings(value: Optional[str]) -> List[str]:
    return [c.strip().lower() for c in (value or "").split(",") if c.strip() and c.strip().lower() != "identity"]


def has_no_body(status: Optional[int], body: bytes) -> bool:
    """A 1xx, 204 or 304 answer has no body whatever its headers say (RFC 9110 §6.4.1), nor has
    the answer to a HEAD request (not told apart from a body cut at zero: neither is read)."""
    return not body or (status is not None and (100 <= status < 200 or status in (204, 304)))


def decode(http_headers: dict, body: bytes, max_bytes: int, cut_ok: bool = False,
           status: Optional[int] = None) -> Union[bytes, BodyError]:
    """The decoded body, or a BodyError. `http_headers` by lower-case name (warc_io's parse);
    `cut_ok`: the record says it was truncated (`WARC-Truncated`): decode what is there;
    `status`: the response's status code, when known."""
    if has_no_body(status, body):
        return body
    transfer = _codings(http_headers.get("transfer-encoding"))
    content = _codings(http_headers.get("content-encoding"))
    try:
        if transfer:
            if transfer[-1] != "chunked":
                raise _Fail(UNKNOWN_ENCODING, f"Transfer-Encoding {http_headers.get('transfer-encoding')!r}")
            body = dechunk(body, cut_ok)
            # Transfer codings were applied over the content codings (RFC 9112 §6.1): they come off first.
            content = content + transfer[:-1]
        else:
            declared = (http_headers.get("content-length") or "").strip()
            if declared.isdigit() and len(body) < int(declared) and not cut_ok:
                raise _Fail(TRUNCATED, f"{len(body)} bytes of a body whose Content-Length is {declared}")
        unknown = [c for c in content if c not in _DECODERS]
        if unknown:
            raise _Fail(UNKNOWN_ENCODING, f"Content-Encoding {', '.join(unknown)}")
        for coding in reversed(content):
            body = _DECODERS[coding](body, max_bytes, cut_ok)
        if len(body) > max_bytes:
            raise _Fail(TOO_LARGE, f"body of {len(body)} bytes over max_decoded_bytes={max_bytes}")
    except _Fail as e:
        return e.error
    return body

