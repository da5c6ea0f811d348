"""Input files: match globs into files on the workers; open any of them as a binary stream.

Local paths and `gs://` (any Beam FileSystem) go through `apache_beam.io.filesystems`; `http(s)://`
URLs are downloaded with `common.fetch` (retries, backoff; size cap, deadline and minimum rate from
the recipe's `inputs.download`) into a temporary folder `llamadata-dl-<pid>-*` first, removed after
reading, on SIGTERM (`remove_downloads_on_sigterm`), or by the next download once its process is gone.

Globs are matched inside the pipeline (`MatchInputs`), not by the launcher: a Dataflow launcher
need not reach the bucket, and a glob over 10^5 files does not become a list in the job graph. A
pattern that matches nothing flows on as itself; the reader fails to open it and counts it as one
`bad_input:unreadable_file` unit naming the pattern, so stats.json still adds up. A local FIFO,
device or socket (or a link to one) is never opened (it could block forever or never end): one
`bad_input:special_file` unit; the launcher refuses one up front (`pipeline.preflight`).

Duplicate inputs are decided here, the same way for every source (`input_key`): a file reached
twice (two patterns, a link to it) or one Wikipedia dump under two names (`pages-articles` and
`pages-articles-multistream` of the same wiki, date and part hold the same pages) is read once;
each other copy is one `bad_input:duplicate_input` unit naming it and the copy that was read.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import os
import posixpath
import re
import shutil
import signal
import stat
import tempfile
import threading
import time
from typing import IO, Iterator, List, NamedTuple, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from common import events as ev
from common import fetch

SPECIAL_FILE = "special_file"
DUPLICATE_INPUT = "duplicate_input"
DOWNLOAD_PREFIX = "llamadata-dl-"


class DownloadLimits(NamedTuple):
    """The recipe's `inputs.download` (common/fetch.py: what each bound does)."""
    max_bytes: int
    deadline_s: float
    min_bytes_per_s: float
    rate_window_s: float

    @classmethod
    def from_recipe(cls, recipe: dict) -> "DownloadLimits":
        d = recipe["inputs"]["download"]
        return cls(int(d["max_bytes"]), float(d["deadline_s"]), float(d["min_bytes_per_s"]), float(d["rate_window_s"]))


class SpecialFileError(OSError):
    """A local input that is not a regular file (counted as `bad_input:special_file`)."""
    bad_input_reason = SPECIAL_FILE


def special_kind(path: str) -> Optional[str]:
    """'a FIFO', 'a character device', ... for a local path that is one (links followed); else None."""
    if "://" in path:
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # missing: opening it says so
    for test, kind in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return None


# ---------------------------------------------------------------- download folders

_downloads_lock = threading.Lock()
_downloads: set = set()  # this process's download folders now in use


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


STALE_AFTER_S = 600  # a live download writes at least once a rate window (inputs.download.rate_window_s)


def _untouched_for(folder: str, seconds: float) -> bool:
    try:
        times = [os.stat(folder).st_mtime] + [e.stat().st_mtime for e in os.scandir(folder)]
    except OSError:
        return False
    return max(times) < time.time() - seconds


def remove_stale_downloads(tmp: Optional[str] = None) -> List[str]:
    """Remove the download folders of processes that are gone (killed before they could): their pid
    is not running here and nothing in them changed for STALE_AFTER_S (a process of another pid
    namespace sharing this temporary folder is still writing to its own)."""
    tmp = tmp or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(tmp)
    except OSError:
        return removed
    for name in names:
        m = re.match(rf"^{DOWNLOAD_PREFIX}(\d+)-", name)
        folder = os.path.join(tmp, name)
        if (m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1)))
                and _untouched_for(folder, STALE_AFTER_S)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(name)
    return removed


@contextlib.contextmanager
def _download_folder() -> Iterator[str]:
    remove_stale_downloads()
    folder = tempfile.mkdtemp(prefix=f"{DOWNLOAD_PREFIX}{os.getpid()}-")
    with _downloads_lock:
        _downloads.add(folder)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with _downloads_lock:
            _downloads.discard(folder)


def remove_downloads_on_sigterm() -> None:
    """From the main thread: on SIGTERM, remove this process's download folders, then let the
    signal do what it did before (the default: end the process). Ctrl-C unwinds on its own."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)
    if getattr(previous, "removes_downloads", False):  # installed by an earlier run in this process
        return

    def on_sigterm(signum, frame):
        with _downloads_lock:
            folders = list(_downloads)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        if callable(previous):
            previous(signum, frame)
            return
        if previous == signal.SIG_IGN:
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    on_sigterm.removes_downloads = True
    signal.signal(signal.SIGTERM, on_sigterm)


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
def open_binary(path: str, limits: Optional[DownloadLimits] = None) -> Iterator[IO[bytes]]:
    """A readable binary stream of `path`: local, any Beam FileSystem, or an HTTP(S) URL (downloaded
    within `limits`, the recipe's `inputs.download`; None: unbounded). Raises OSError when it
    cannot be opened (`SpecialFileError` for a FIFO or device, `fetch.FetchError` for a download)."""
    if fetch.is_url(path):
        with _download_folder() as folder:
            local = fetch.download(path, os.path.join(folder, "input"), **(limits._asdict() if limits else {}))
            with open(local, "rb") as f:
                yield f
    else:
        kind = special_kind(path)
        if kind:
            raise SpecialFileError(f"{path} is {kind}, not a regular file: not read")
        # compression_type UNCOMPRESSED: readers decide on (and count errors of) decompression.
        try:
            stream = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except OSError as e:
            if has_glob(path):
                raise FileNotFoundError(f"input pattern matched no file: {path}") from e
            raise
        except ValueError as e:  # a scheme no Beam filesystem reads (file://, s3:// without the extra)
            raise OSError(f"no filesystem for {path}: {e}") from None
        with stream as f:
            yield f


def patterns_of(patterns: Sequence[str]) -> List[str]:
    """The non-empty patterns, sorted (the graph does not depend on the order given); one given
    twice stays twice, so that its second reading is counted (`MatchInputs`)."""
    return sorted(p.strip() for p in patterns if p and p.strip())


# `<db>wiki-<date>-pages-articles[-multistream][N].xml[-pA-pB][.bz2]`: the same pages either way.
_WIKI_DUMP = re.compile(r"^(?P<db>[a-z0-9_]+wiki)-(?P<date>\d{8}|latest)-pages-articles(?:-multistream)?"
                        r"(?P<part>\d*)\.xml(?P<range>-p\d+p\d+)?(?:\.bz2|\.gz)?$")


def input_key(path: str) -> str:
    """What makes two inputs the same: a local file's real path (links resolved); then, for a
    Wikipedia dump, its wiki, date and part (plain or multistream, any folder); else the path."""
    if "://" not in path:
        path = os.path.realpath(path)
    m = _WIKI_DUMP.match(posixpath.basename(path.split("?")[0].rstrip("/")))
    if m:
        return "wikipedia-dump:" + ":".join(m.group("db", "date", "part") + (m.group("range") or "",))
    return path


class _OnePerInput(beam.DoFn):
    """(input key, [paths]) → the first path by name; each other one a `duplicate_input` unit."""

    def __init__(self, source: Optional[str]):
        self.source = source

    def process(self, element):
        _, paths = element
        paths = sorted(paths)
        yield paths[0]
        if self.source is None:
            return
        for other in paths[1:]:
            why = "given twice" if other == paths[0] else f"the same input as {paths[0]}"
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(self.source, 0))
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(self.source, DUPLICATE_INPUT, other, f"{why}: read once"))


class MatchInputs(beam.PTransform):
    """PBegin → (input paths, events): each pattern matched on a worker, each input once
    (`input_key`; the grouping also spreads the files over workers), every other copy one
    `bad_input:duplicate_input` unit of `source`."""

    def __init__(self, patterns: Sequence[str], source: Optional[str], label=None):
        super().__init__(label)
        self.patterns = patterns_of(patterns)
        self.source = source

    def expand(self, pbegin):
        out = (pbegin
               | "Patterns" >> beam.Create(self.patterns)
               | "Match" >> beam.FlatMap(match_pattern)
               | "KeyByInput" >> beam.Map(lambda p: (input_key(p), p))
               | "GroupCopies" >> beam.GroupByKey()
               | "OnePerInput" >> beam.ParDo(_OnePerInput(self.source)).with_outputs(ev.EVENTS, main="paths"))
        return out.paths, out[ev.EVENTS]


class ExpandInputs(beam.PTransform):
    """PBegin → PCollection of input paths, each input once (`MatchInputs` without the counts:
    for steps that are not a source's accounts, e.g. the quality stage's Wikipedia dumps)."""

    def __init__(self, patterns: Sequence[str], label=None):
        super().__init__(label)
        self.patterns = patterns

    def expand(self, pbegin):
        paths, _ = pbegin | "Match" >> MatchInputs(self.patterns, None)
        return paths


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
