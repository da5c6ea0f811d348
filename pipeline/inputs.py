"""Input files: expand globs and URLs into a sorted file list; open any of them as a binary stream.

Local paths and `gs://` (any Beam FileSystem) go through `apache_beam.io.filesystems`; `http(s)://`
URLs are downloaded with `common.fetch` (retries, backoff) into a temporary file first.
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
    """Every file matching the patterns, sorted, without duplicates. URLs are kept as they are."""
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
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            yield f


class ExpandInputs(beam.PTransform):
    """PBegin → PCollection of input paths (sorted at construction, then spread over workers)."""

    def __init__(self, patterns: Sequence[str]):
        super().__init__()
        self.paths = expand(patterns)

    def expand(self, pbegin):
        return pbegin | "Paths" >> beam.Create(self.paths) | "Spread" >> beam.Reshuffle()


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
