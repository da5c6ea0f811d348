import hashlib

import pytest

from common import fetch
from tests.http_server import serve

BODY = b"lid model bytes " * 1000


def test_retries_503_then_succeeds(tmp_path):
    with serve({"/m.bin": BODY}, {"/m.bin": [503, 503]}) as srv:
        dest = fetch.download(srv.base_url + "/m.bin", str(tmp_path / "m.bin"), backoff=0.01)
        assert srv.requests == ["/m.bin"] * 3
    assert open(dest, "rb").read() == BODY


def test_429_is_retried_and_gives_clear_error_after_last_try(tmp_path):
    with serve({"/m.bin": BODY}, {"/m.bin": [429] * 10}) as srv:
        with pytest.raises(fetch.FetchError, match=r"after 3 attempts; last error: HTTP 429"):
            fetch.download(srv.base_url + "/m.bin", str(tmp_path / "m.bin"), retries=2, backoff=0.01)
        assert len(srv.requests) == 3
    assert not (tmp_path / "m.bin").exists()


def test_404_is_not_retried(tmp_path):
    with serve({}) as srv:
        with pytest.raises(fetch.FetchError, match="HTTP 404"):
            fetch.download(srv.base_url + "/missing", str(tmp_path / "x"), backoff=0.01)
        assert len(srv.requests) == 1


def test_sha256_checked_and_cached(tmp_path):
    good = hashlib.sha256(BODY).hexdigest()
    with serve({"/m.bin": BODY}) as srv:
        url = srv.base_url + "/m.bin"
        with pytest.raises(fetch.FetchError, match="SHA-256"):
            fetch.cached(url, sha256="0" * 64, cache_dir=str(tmp_path), backoff=0.01, retries=0)
        path = fetch.cached(url, sha256=good, cache_dir=str(tmp_path))
        again = fetch.cached(url, sha256=good, cache_dir=str(tmp_path))
        assert path == again
        assert srv.requests == ["/m.bin", "/m.bin"]  # the second cached() call used the cache
