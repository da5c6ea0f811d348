"""Inputs named by URL as servers really answer (issue 22, 4, 6, 7, 15): a body that drips is cut by
the total deadline or the minimum rate; a declared length over the recipe's cap is refused before
the body is read and a body that never ends is stopped at the cap, neither retried; SIGTERM during a
download leaves no `llamadata-dl-*` folder; a body cut short is an error wherever HTTP can tell, and
otherwise the file's own reader counts the cut. Real `requests` against tests/http_server.py."""
from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import time

import pytest

from common import fetch
from pipeline import inputs
from pipeline import recipe as recipe_mod
from pipeline.sources import module_for
from tests.conftest import BEAM_ARGS, ROOT, SHARED
from tests.http_server import serve
from tests.source_harness import accounting, run_source

BOOK = (SHARED / "books" / "raw" / "pg10089.txt.gz").read_bytes()


def _drip(every: float = 0.2, seconds: float = 20.0, length: int = 10 ** 6):
    """A server that promises `length` bytes and sends one every `every` seconds."""
    def handler(h):
        h.send_response(200)
        h.send_header("Content-Length", str(length))
        h.end_headers()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            h.wfile.write(b"x")
            time.sleep(every)
    return handler


def _headers_then(body_blocks, headers, seconds: float = 20.0):
    def handler(h):
        h.send_response(200)
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        end = time.monotonic() + seconds
        for block in body_blocks():
            if time.monotonic() > end:
                return
            h.wfile.write(block)
    return handler


def _forever():
    while True:
        yield b"\0" * (1 << 16)


def _left_in(folder):
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def test_a_drip_ends_at_the_total_deadline(tmp_path):
    with serve({}, handlers={"/drip": _drip()}) as srv:
        t0 = time.monotonic()
        with pytest.raises(fetch.FetchError, match="deadline_s=1.5") as e:
            fetch.download(srv.base_url + "/drip", str(tmp_path / "f"), deadline_s=1.5, backoff=0.01, timeout=60)
        took = time.monotonic() - t0
    assert e.value.bad_input_reason == "download_too_slow" and took < 4.0  # the 60 s read timeout never fires
    assert _left_in(tmp_path) == []


def test_a_drip_under_the_minimum_rate_is_cut_and_retried(tmp_path):
    with serve({}, handlers={"/drip": _drip()}) as srv:
        t0 = time.monotonic()
        with pytest.raises(fetch.FetchError, match="min_bytes_per_s=100") as e:
            fetch.download(srv.base_url + "/drip", str(tmp_path / "f"), min_bytes_per_s=100, rate_window_s=1.0,
                           retries=1, backoff=0.01)
        assert len(srv.requests) == 2  # retried once, then given up
    assert e.value.bad_input_reason == "download_too_slow" and time.monotonic() - t0 < 6.0


def test_a_declared_length_over_the_cap_is_refused_before_the_body(tmp_path):
    handler = _headers_then(_forever, {"Content-Length": str(10 ** 12)})
    with serve({}, handlers={"/huge": handler}) as srv:
        with pytest.raises(fetch.FetchError, match="Content-Length 1000000000000 over max_bytes=1048576") as e:
            fetch.download(srv.base_url + "/huge", str(tmp_path / "f"), max_bytes=1 << 20, backoff=0.01)
        assert len(srv.requests) == 1  # not retried
    assert e.value.bad_input_reason == "download_too_large" and _left_in(tmp_path) == []


def test_a_body_that_never_ends_stops_at_the_cap(tmp_path):
    handler = _headers_then(_forever, {"Connection": "close"})  # no length: the body ends when the server closes
    with serve({}, handlers={"/endless": handler}) as srv:
        with pytest.raises(fetch.FetchError, match="over max_bytes=4194304") as e:
            fetch.download(srv.base_url + "/endless", str(tmp_path / "f"), max_bytes=4 << 20, backoff=0.01)
        assert len(srv.requests) == 1
    assert e.value.bad_input_reason == "download_too_large" and _left_in(tmp_path) == []


def test_bodies_cut_short_are_errors_where_http_can_tell(tmp_path):
    half = BOOK[: len(BOOK) // 2]
    cut_after_length = _headers_then(lambda: iter([half]), {"Content-Length": str(len(BOOK))})
    cut_chunked = _headers_then(lambda: iter([b"%x\r\n" % len(BOOK), half]), {"Transfer-Encoding": "chunked"})
    with serve({}, handlers={"/length": cut_after_length, "/chunked": cut_chunked}) as srv:
        for path in ("/length", "/chunked"):
            with pytest.raises(fetch.FetchError, match="after 2 attempts") as e:
                fetch.download(srv.base_url + path, str(tmp_path / "f"), retries=1, backoff=0.01)
            assert "IncompleteRead" in str(e.value) or "ProtocolError" in str(e.value) or "Chunked" in str(e.value), str(e.value)
    assert _left_in(tmp_path) == []


def _recipe(**download):
    recipe = recipe_mod.load()
    recipe["inputs"]["download"].update(download)
    return recipe


def test_in_a_source_each_is_one_counted_unit_naming_the_url(tmp_path):
    half = BOOK[: len(BOOK) // 2]
    handlers = {
        "/drip.txt.gz": _drip(),
        "/huge.txt.gz": _headers_then(_forever, {"Content-Length": str(10 ** 12)}),
        # Neither a length nor chunks: HTTP cannot see the cut; the gzip reader does.
        "/cut.txt.gz": _headers_then(lambda: iter([half]), {"Connection": "close"}),
    }
    with serve({"/pg10089.txt.gz": BOOK}, handlers=handlers) as srv:
        urls = [srv.base_url + p for p in ["/pg10089.txt.gz", *handlers]]
        docs, events = run_source(module_for("books").Source, urls, tmp_path,
                                  _recipe(max_bytes=1 << 30, deadline_s=2.0))
    docs_in, dropped = accounting(docs, events)
    assert docs_in == 4 and len(docs) == 1
    bad = {e["path"]: e["reason"] for e in events if e["reason"].startswith("bad_input:")}
    assert bad == {urls[1]: "bad_input:download_too_slow", urls[2]: "bad_input:download_too_large",
                   urls[3]: "bad_input:truncated_gzip"}


def test_sigterm_during_a_download_leaves_no_download_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with serve({}, handlers={"/pg1.txt.gz": _drip(every=0.5, seconds=120)}) as srv:
        env = dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(tmp))
        proc = subprocess.Popen([sys.executable, "-m", "pipeline.run", *BEAM_ARGS, f"--output={tmp_path / 'out'}",
                                 "--sources=books", "--stages=curate", f"--books_input={srv.base_url}/pg1.txt.gz"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while not any(n.startswith("llamadata-dl-") and os.listdir(tmp / n) for n in os.listdir(tmp)):
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-3000:]
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGTERM
    assert [n for n in os.listdir(tmp) if n.startswith("llamadata-dl-")] == []


def test_a_killed_process_download_folder_is_removed_by_the_next(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"llamadata-dl-{int(dead.stdout)}-abc"
    mine = tmp_path / f"llamadata-dl-{os.getpid()}-def"
    recent = tmp_path / f"llamadata-dl-{int(dead.stdout)}-ghi"  # maybe another pid namespace's, still writing
    for folder in (stale, mine, recent):
        folder.mkdir()
        (folder / "input").write_bytes(b"partial")
    hour_ago = time.time() - 3600
    for path in (stale / "input", stale, mine / "input", mine):
        os.utime(path, (hour_ago, hour_ago))
    assert inputs.remove_stale_downloads(str(tmp_path)) == [stale.name]
    assert _left_in(tmp_path) == sorted([mine.name, recent.name])
