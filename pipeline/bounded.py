"""Reading a stream without trusting its sizes: at most N bytes of a unit, lines of at most N bytes.

A gzip that inflates 1000x, or a JSON-lines file with a 3 GB line, must cost a reader its limit
and one counted bad unit, never the worker's memory.
"""
from __future__ import annotations

from typing import IO, Iterator, Optional, Tuple

_SKIP_CHUNK = 1 << 20


def read_at_most(stream: IO[bytes], limit: int) -> Tuple[bytes, bool]:
    """(up to `limit` bytes, True when there was more): never holds more than limit + 1 bytes."""
    parts, n = [], 0
    while n <= limit:
        # in chunks: read(limit + 1) would allocate the whole limit up front, for every small book
        chunk = stream.read(min(_SKIP_CHUNK, limit + 1 - n))
        if not chunk:
            return b"".join(parts), False
        parts.append(chunk)
        n += len(chunk)
    return b"".join(parts)[:limit], True


def iter_lines(stream: IO[bytes], limit: int) -> Iterator[Tuple[int, Optional[bytes]]]:
    """(line number, the line) for each line; the line is None when it is over `limit` bytes (its
    bytes are read past in chunks, never held)."""
    size = limit + 1
    for lineno, line in enumerate(iter(lambda: stream.readline(size), b""), 1):
        if len(line) > limit and not line.endswith(b"\n"):
            for rest in iter(lambda: stream.readline(_SKIP_CHUNK), b""):
                if rest.endswith(b"\n"):
                    break
            yield lineno, None
        else:
            yield lineno, line
