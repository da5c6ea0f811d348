"""Downloads over HTTP(S) with `requests`: retries with backoff, SHA-256 checks, a local cache.

Used for WET files and listings named by URL and for models (fastText, KenLM, SentencePiece)
given as URLs. Retries on connection errors, 429 and 5xx; a clear `FetchError` after the last try.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from typing import Callable, Optional

import requests

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
DEFAULT_CACHE = os.environ.get("LLAMADATA_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "llamadata"))


class FetchError(OSError):
    """A download that failed for good: an I/O error, so readers that count unreadable files count it."""


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
             on_progress: Optional[Callable[[int, Optional[int]], None]] = None) -> str:
    """Download `url` to `dest` (atomically: temp file, then rename). Returns `dest`.
    `on_progress(bytes so far, Content-Length or None)` is called once at the start and per chunk."""
    sess = session or requests.Session()
    last = "no attempt"
    for attempt in range(retries + 1):
        response = None
        try:
            response = sess.get(url, stream=True, timeout=timeout)
            if response.status_code in RETRY_STATUS:
                last = f"HTTP {response.status_code}"
            elif response.status_code != 200:
                raise FetchError(f"GET {url} failed: HTTP {response.status_code} (not retried)")
            else:
                digest = hashlib.sha256()
                os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)), prefix=".part-")
                total = response.headers.get("Content-Length")
                total = int(total) if total and total.isdigit() else None
                done = 0
                try:
                    if on_progress:
                        on_progress(0, total)
                    with os.fdopen(fd, "wb") as out:
                        for chunk in response.iter_content(chunk_size=1 << 20):
                            out.write(chunk)
                            digest.update(chunk)
                            done += len(chunk)
                            if on_progress:
                                on_progress(done, total)
                    if sha256 and digest.hexdigest() != sha256.lower():
                        raise FetchError(f"GET {url}: SHA-256 {digest.hexdigest()} != expected {sha256}")
                    os.replace(tmp, dest)
                    return dest
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as e:
            last = f"{type(e).__name__}: {e}"
        finally:
            if response is not None:
                response.close()
        if attempt < retries:
            time.sleep(_sleep_for(attempt, backoff, response))
    raise FetchError(f"GET {url} failed after {retries + 1} attempts; last error: {last}")


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached(path_or_url: str, *, sha256: Optional[str] = None, cache_dir: Optional[str] = None, **kw) -> str:
    """A local path for a model or file given as a path or URL.

    URLs are downloaded once into the cache (keyed by the URL) and reused; when `sha256` is given,
    the file (cached or local) must match it.
    """
    if not is_url(path_or_url):
        if sha256 and sha256_of(path_or_url) != sha256.lower():
            raise FetchError(f"{path_or_url}: SHA-256 mismatch (expected {sha256})")
        return path_or_url
    cache_dir = cache_dir or DEFAULT_CACHE
    key = hashlib.sha1(path_or_url.encode()).hexdigest()[:16]
    dest = os.path.join(cache_dir, key + "-" + os.path.basename(path_or_url.split("?")[0]))
    if os.path.exists(dest) and (not sha256 or sha256_of(dest) == sha256.lower()):
        return dest
    return download(path_or_url, dest, sha256=sha256, **kw)
