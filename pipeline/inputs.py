"""Input files: match globs into files on the workers; open any of them as a binary stream.

Local paths and `gs://` (any Beam FileSystem) go through `apache_beam.io.filesystems`; `http(s)://`
URLs are downloaded with `common.fetch` (retries, backoff) into a temporary file first.

Globs are matched inside the pipeline (`ExpandInputs`), not by the launcher: a Dataflow launcher
need not reach the bucket, and a glob over 10^5 files does not become a list in the job graph. A
pattern that matches nothing flows on as itself; the reader fails to open it and counts it as one
`bad_input:unreadable_file` unit naming the pattern, so stats.json still adds up.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import os
import shutil
import tempfile
from typing import IO, Iterator, List, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from common import fetch


def expand(patterns: Sequence[str]) -> List[str]:
    """Every file matching the patterns, sorted, without duplicates; URLs kept as they are. For the
    launcher's own steps only (reading an output folder): sources match on workers (`ExpandInputs`)."""
    paths = set()
    for pattern in patterns:
        pattern = pattern.strip()
        if not pattern:
            continue
        if fetch.is_url(pattern):
            paths.add(pattern)
            continue
        matched = [m.path for r in FileSystems.match([pattern]) for m in r.metadata_list]
        if not matched:
            raise FileNotFoundError(f"input pattern matched no file: {pattern}")
        paths.update(matched)
    return sorted(paths)


def has_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def match_pattern(pattern: str) -> List[str]:
    """The files one pattern names, sorted (what `fileio.MatchAll` does on a worker). A URL is
    itself; a pattern that matches nothing, or whose file system cannot be listed, is returned as
    it is, for the reader to count as an unreadable unit."""
    if fetch.is_url(pattern):
        return [pattern]
    try:
        matched = sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)
    except Exception:  # unreachable bucket, bad pattern: opening it will say why, and count it
        matched = []
    return matched or [pattern]


@contextlib.contextmanager
def open_binary(path: str) -> Iterator[IO[bytes]]:
    """A readable binary stream of `path`: local, any Beam FileSystem, or an HTTP(S) URL."""
    if fetch.is_url(path):
        tmpdir = tempfile.mkdtemp(prefix="llamadata-dl-")
        try:
            local = fetch.download(path, os.path.join(tmpdir, "input"))
            with open(local, "rb") as f:
                yield f
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
    else:
        # compression_type UNCOMPRESSED: readers decide on (and count errors of) decompression.
        try:
            stream = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except OSError as e:
            if has_glob(path):
                raise FileNotFoundError(f"input pattern matched no file: {path}") from e
            raise
        with stream as f:
            yield f


def patterns_of(patterns: Sequence[str]) -> List[str]:
    """The distinct non-empty patterns, sorted: the graph does not depend on the order given."""
    return sorted({p.strip() for p in patterns if p and p.strip()})


class ExpandInputs(beam.PTransform):
    """PBegin → PCollection of input paths: each pattern matched on a worker, duplicates removed
    (the distinct step also spreads the files over workers)."""

    def __init__(self, patterns: Sequence[str], label=None):
        super().__init__(label)
        self.patterns = patterns_of(patterns)

    def expand(self, pbegin):
        return (pbegin
                | "Patterns" >> beam.Create(self.patterns)
                | "Match" >> beam.FlatMap(match_pattern)
                | "Distinct" >> beam.Distinct())


class _Prefixed(io.RawIOBase):
    """The bytes already read from a stream (to sniff its format), then the rest of it."""

    def __init__(self, head: bytes, rest: IO[bytes]):
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self.head:
            n = min(len(buf), len(self.head))
            buf[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(buf))
        buf[: len(data)] = data
        return len(data)


def with_head(head: bytes, rest: IO[bytes], buffer_size: int = 1 << 20) -> IO[bytes]:
    """A buffered stream of `head` followed by `rest`: un-reads sniffed bytes of unseekable streams."""
    return io.BufferedReader(_Prefixed(head, rest), buffer_size)


def decompressed(raw: IO[bytes]) -> IO[bytes]:
    """`raw` itself, or a decompressing reader when it starts with gzip or bzip2 magic bytes."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)
    magic = buffered.peek(3)[:3]
    if magic[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=buffered)
    if magic == b"BZh":
        return bz2.BZ2File(buffered)
    return buffered
