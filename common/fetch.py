"""Downloads over HTTP(S) with `requests`: retries with backoff, SHA-256 checks, a local cache.

Used for WET files and listings named by URL and for models (fastText, KenLM, SentencePiece)
given as URLs. Retries on connection errors, 429 and 5xx; a clear `FetchError` after the last try.

Bounds (each off when None; pipeline inputs take them from the recipe's `inputs.download`):
- `max_bytes`: a declared `Content-Length` over it is refused before the body is read, and the body
  is counted as it streams: past it the download stops. Neither is retried (`download_too_large`);
- `deadline_s`: all tries together; checked after every read, and a read waits at most `timeout`
  (`download_too_slow`, not retried);
- `min_bytes_per_s` over each `rate_window_s`: a server that drips is cut off (`download_too_slow`;
  retried, within the deadline). A per-read timeout alone never ends a one-byte-a-second drip.
A body cut short is an error wherever HTTP can tell: fewer bytes than its `Content-Length`, or a
chunked body without its last chunk (urllib3 raises; retried). One that is neither ends where the
connection does: the reader of the file's format finds the cut (`truncated_gzip`, ...).
`FetchError.bad_input_reason` names the failure for the readers' `bad_input:*` count.

A download is written under `common.atomic.temp_name` (what `atomic.clean_stale` removes after a
kill), then renamed. A file's SHA-256 is remembered beside it (`<file>.sha256`, keyed by its size
and modification time): a pinned checksum does not re-hash cc_net's 4 GB en.arpa.bin on every run.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from typing import Callable, Optional

import requests
import urllib3

from common import atomic

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
DEFAULT_CACHE = os.environ.get("LLAMADATA_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "llamadata"))


class FetchError(OSError):
    """A download that failed for good: an I/O error, so readers that count unreadable files count it."""

    bad_input_reason = "unreadable_file"

    def __init__(self, message: str, reason: Optional[str] = None):
        super().__init__(message)
        if reason:
            self.bad_input_reason = reason


TOO_LARGE = "download_too_large"
TOO_SLOW = "download_too_slow"
_READ = 1 << 20


class _TooSlow(Exception):
    pass


def is_url(path: str) -> bool:
    return path.startswith("http://") or path.startswith("https://")


def _sleep_for(attempt: int, backoff: float, response: Optional[requests.Response]) -> float:
    # Honour Retry-After when the server gives seconds; otherwise exponential backoff.
    if response is not None:
        after = response.headers.get("Retry-After", "")
        if after.isdigit():
            return min(float(after), 60.0)
    return backoff * (2 ** attempt)


def download(url: str, dest: str, *, retries: int = 5, backoff: float = 0.5, timeout: float = 60.0,
             sha256: Optional[str] = None, session: Optional[requests.Session] = None,
             max_bytes: Optional[int] = None, deadline_s: Optional[float] = None,
             min_bytes_per_s: Optional[float] = None, rate_window_s: float = 60.0,
             on_progress: Optional[Callable[[int, Optional[int]], None]] = None,
             remember_sha256: bool = False) -> str:
    """Download `url` to `dest` (atomically: temp file, then rename). Returns `dest`.
    `max_bytes`, `deadline_s`, `min_bytes_per_s`/`rate_window_s`: the bounds of the module doc.
    `on_progress(bytes so far, Content-Length or None)` is called once at the start and per chunk;
    `remember_sha256`: keep the body's SHA-256 for `file_sha256` (a cached file, read again later)."""
    sess = session or requests.Session()
    last = "no attempt"
    start = time.monotonic()

    def left() -> Optional[float]:
        return None if deadline_s is None else deadline_s - (time.monotonic() - start)

    def past_deadline(during: str) -> FetchError:
        return FetchError(f"GET {url}: not done within deadline_s={deadline_s} ({during})", TOO_SLOW)

    for attempt in range(retries + 1):
        response = None
        try:
            if left() is not None and left() <= 0:
                raise past_deadline(f"after {attempt} attempts; last error: {last}")
            read_timeout = timeout if left() is None else max(0.1, min(timeout, left()))
            response = sess.get(url, stream=True, timeout=(min(timeout, read_timeout), read_timeout))
            if response.status_code in RETRY_STATUS:
                last = f"HTTP {response.status_code}"
            elif response.status_code != 200:
                raise FetchError(f"GET {url} failed: HTTP {response.status_code} (not retried)")
            else:
                declared = response.headers.get("Content-Length", "").strip()
                if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(f"GET {url}: Content-Length {declared} over max_bytes={max_bytes} (not read)", TOO_LARGE)
                folder = os.path.dirname(os.path.abspath(dest))
                os.makedirs(folder, exist_ok=True)
                if declared.isdigit() and int(declared) > shutil.disk_usage(folder).free:
                    raise FetchError(f"GET {url}: Content-Length {declared} over the {shutil.disk_usage(folder).free} "
                                     f"bytes free in {folder} (not read)", TOO_LARGE)
                digest = hashlib.sha256()
                tmp = atomic.temp_name(dest)
                total = int(declared) if declared.isdigit() else None
                try:
                    if on_progress:
                        on_progress(0, total)
                    with open(tmp, "wb") as out:
                        _stream_body(response, out, digest, url, max_bytes, min_bytes_per_s, rate_window_s, left,
                                     past_deadline, on_progress, total)
                    if sha256 and digest.hexdigest() != sha256.lower():
                        raise FetchError(f"GET {url}: SHA-256 {digest.hexdigest()} != expected {sha256}")
                    os.replace(tmp, dest)
                    if remember_sha256:
                        _remember_sha256(dest, digest.hexdigest())
                    return dest
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                urllib3.exceptions.HTTPError, _TooSlow) as e:
            last = f"{type(e).__name__}: {e}"
        finally:
            if response is not None:
                response.close()
        if attempt < retries:
            pause = _sleep_for(attempt, backoff, response)
            if left() is not None and pause >= left():
                raise past_deadline(f"after {attempt + 1} attempts; last error: {last}")
            time.sleep(pause)
    if "_TooSlow" in last:
        raise FetchError(f"GET {url} failed after {retries + 1} attempts; last error: {last}", TOO_SLOW)
    raise FetchError(f"GET {url} failed after {retries + 1} attempts; last error: {last}")


def _stream_body(response, out, digest, url, max_bytes, min_bytes_per_s, rate_window_s, left, past_deadline,
                 on_progress=None, declared=None) -> None:
    """The body into `out` as it arrives (read1: whatever came, so a drip is seen byte by byte)."""
    raw = response.raw
    total = 0
    window_start, window_bytes = time.monotonic(), 0
    while True:
        chunk = raw.read1(_READ, decode_content=True)
        if not chunk:
            return
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise FetchError(f"GET {url}: body over max_bytes={max_bytes} (stopped there)", TOO_LARGE)
        out.write(chunk)
        digest.update(chunk)
        if on_progress:
            on_progress(total, declared)
        if left() is not None and left() <= 0:
            raise past_deadline(f"{total} bytes read")
        if min_bytes_per_s is not None:
            window_bytes += len(chunk)
            elapsed = time.monotonic() - window_start
            if elapsed >= rate_window_s:
                if window_bytes < min_bytes_per_s * elapsed:
                    raise _TooSlow(f"{window_bytes} bytes in {elapsed:.1f} s, under min_bytes_per_s={min_bytes_per_s}")
                window_start, window_bytes = time.monotonic(), 0


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


SHA256_SUFFIX = ".sha256"


def _stamp(path: str) -> str:
    st = os.stat(path)
    return f"{st.st_size} {st.st_mtime_ns}"


def _side_file(path: str) -> str:
    """Where a file's SHA-256 is remembered: beside it in the download cache; for a user's own file
    (a local model), in the cache too, named by its path: nothing is written into a user's folder."""
    cache = os.path.realpath(DEFAULT_CACHE)
    real = os.path.realpath(path)
    if os.path.dirname(real) == cache:
        return path + SHA256_SUFFIX
    return os.path.join(cache, "sha256", hashlib.sha1(real.encode("utf-8")).hexdigest() + SHA256_SUFFIX)


def _remember_sha256(path: str, digest: str) -> None:
    try:
        atomic.write_text(_side_file(path), f"{_stamp(path)}\n{digest}\n")
    except OSError:
        pass  # a read-only cache: hashed again next time


def file_sha256(path: str) -> str:
    """SHA-256 of a local file, remembered (`_side_file`: size, mtime, digest) and trusted while the
    file's size and modification time are those it was hashed at."""
    try:
        with open(_side_file(path), encoding="utf-8") as f:
            stamp, digest = f.read().split("\n")[:2]
        if stamp == _stamp(path) and len(digest) == 64:
            return digest
    except (OSError, ValueError):
        pass
    digest = sha256_of(path)
    _remember_sha256(path, digest)
    return digest


def probe(url: str, *, retries: int = 3, backoff: float = 0.5, timeout: float = 30.0,
          session: Optional[requests.Session] = None) -> Optional[int]:
    """Whether `url` can be downloaded, without downloading it: an HTTP HEAD (redirects followed,
    retried as `download` is). Its Content-Length (None when not given), or a FetchError."""
    sess = session or requests.Session()
    last = "no attempt"
    for attempt in range(retries + 1):
        response = None
        try:
            response = sess.head(url, allow_redirects=True, timeout=timeout)
            if response.status_code == 200:
                declared = response.headers.get("Content-Length", "").strip()
                return int(declared) if declared.isdigit() else None
            if response.status_code not in RETRY_STATUS:
                raise FetchError(f"HEAD {url}: HTTP {response.status_code} (not retried)")
            last = f"HTTP {response.status_code}"
        except (requests.ConnectionError, requests.Timeout) as e:
            last = f"{type(e).__name__}: {e}"
        finally:
            if response is not None:
                response.close()
        if attempt < retries:
            time.sleep(_sleep_for(attempt, backoff, response))
    raise FetchError(f"HEAD {url} failed after {retries + 1} attempts; last error: {last}")


def cached(path_or_url: str, *, sha256: Optional[str] = None, cache_dir: Optional[str] = None, **kw) -> str:
    """A local path for a model or file given as a path or URL.

    URLs are downloaded once into the cache (keyed by the URL) and reused; when `sha256` is given,
    the file (cached or local) must match it.
    """
    if not is_url(path_or_url):
        if sha256 and file_sha256(path_or_url) != sha256.lower():
            raise FetchError(f"{path_or_url}: SHA-256 mismatch (expected {sha256})")
        return path_or_url
    cache_dir = cache_dir or DEFAULT_CACHE
    key = hashlib.sha1(path_or_url.encode()).hexdigest()[:16]
    dest = os.path.join(cache_dir, key + "-" + os.path.basename(path_or_url.split("?")[0]))
    if os.path.exists(dest) and (not sha256 or file_sha256(dest) == sha256.lower()):
        return dest
    return download(path_or_url, dest, sha256=sha256, remember_sha256=True, **kw)
