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


def test_a_pinned_sha256_is_not_hashed_again_while_size_and_mtime_hold(tmp_path, monkeypatch):
    """The SHA-256 of a cached file is remembered beside it (size, mtime): a pinned checksum does not
    re-read cc_net's 4 GB en.arpa.bin on every run; a file changed since (new mtime) is hashed again."""
    import os

    monkeypatch.setattr(fetch, "DEFAULT_CACHE", str(tmp_path))
    good = hashlib.sha256(BODY).hexdigest()
    with serve({"/m.bin": BODY}) as srv:
        url = srv.base_url + "/m.bin"
        path = fetch.cached(url, sha256=good)
        side = path + fetch.SHA256_SUFFIX
        assert open(side).read().split("\n")[1] == good  # remembered from the download itself
        # Same size and mtime, other bytes: the remembered digest is trusted (the file is not read).
        stat = os.stat(path)
        with open(path, "r+b") as f:
            f.write(b"X")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert fetch.cached(url, sha256=good) == path and srv.requests == ["/m.bin"]
        assert fetch.file_sha256(path) == good
        # A new mtime: hashed again, found wrong, downloaded again.
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        assert fetch.cached(url, sha256=good) == path and srv.requests == ["/m.bin", "/m.bin"]
    assert open(path, "rb").read() == BODY and fetch.file_sha256(path) == good


def test_a_users_local_file_gets_no_side_file_in_its_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, "DEFAULT_CACHE", str(tmp_path / "cache"))
    mine = tmp_path / "models" / "en.arpa.bin"
    mine.parent.mkdir()
    mine.write_bytes(BODY)
    good = hashlib.sha256(BODY).hexdigest()
    assert fetch.cached(str(mine), sha256=good) == str(mine)
    assert sorted(p.name for p in mine.parent.iterdir()) == ["en.arpa.bin"]
    assert len(list((tmp_path / "cache" / "sha256").iterdir())) == 1


def test_a_download_in_flight_has_a_name_clean_stale_removes(tmp_path):
    """A kill during a download leaves only a name `common.atomic.clean_stale` knows."""
    import time

    from common import atomic

    seen = []

    def half_then_rest(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(BODY)))
        handler.end_headers()
        handler.wfile.write(BODY[: len(BODY) // 2])
        handler.wfile.flush()
        time.sleep(0.3)
        seen.extend(p.name for p in tmp_path.iterdir())
        handler.wfile.write(BODY[len(BODY) // 2:])

    with serve({}, handlers={"/m.bin": half_then_rest}) as srv:
        fetch.download(srv.base_url + "/m.bin", str(tmp_path / "m.bin"))
    assert len(seen) == 1 and seen[0] != "m.bin" and atomic.is_stale(seen[0]), seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bin"]


def test_probe_asks_without_downloading(tmp_path):
    import socket

    with serve({"/m.bin": BODY}) as srv:
        assert fetch.probe(srv.base_url + "/m.bin") == len(BODY)
        with pytest.raises(fetch.FetchError, match="HTTP 404"):
            fetch.probe(srv.base_url + "/missing")
        assert srv.requests == [] and srv.heads == ["/m.bin", "/missing"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(fetch.FetchError, match="failed after 2 attempts"):
        fetch.probe(f"http://127.0.0.1:{port}/m.bin", retries=1, backoff=0.01)
