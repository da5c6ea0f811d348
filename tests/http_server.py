"""A real HTTP server on 127.0.0.1 for download tests: serves files (GET, and HEAD: recorded in
`heads`, apart from `requests`), can fail the first N requests, and can answer a path with a
handler of its own (a body that drips, never ends, or is cut)."""
from __future__ import annotations

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Iterator


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        server = self.server
        with server.lock:
            server.requests.append(self.path)
            failures = server.failures.get(self.path, [])
            status = failures.pop(0) if failures else 200
        handler = server.handlers.get(self.path)
        if handler is not None and status == 200:
            try:
                handler(self)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up: what the test wants
                pass
            return
        if status != 200:
            self.send_response(status)
            self.send_header("Retry-After", "0")
            self.end_headers()
            return
        body = server.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802: the headers a GET would send, no body; recorded apart from the GETs
        server = self.server
        with server.lock:
            server.heads.append(self.path)
        body = server.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(files: Dict[str, bytes], failures: Dict[str, list] = None,
          handlers: Dict[str, Callable] = None) -> Iterator[ThreadingHTTPServer]:
    """Serve `files` (path → bytes); `failures[path]` lists statuses to answer before succeeding;
    `handlers[path](request_handler)` writes a whole answer itself (status line, headers, body)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.files = dict(files)
    server.handlers = dict(handlers or {})
    server.failures = {k: list(v) for k, v in (failures or {}).items()}
    server.requests = []
    server.heads = []
    server.lock = threading.Lock()
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
