"""Progress while curating: documents and MB read per source, with rate, every few seconds.

`Track` sits on the accounting events (readers emit one `read` event per file): it counts them as
Beam counters (namespace `progress`: `<source>:docs_read`, `<source>:bytes_read`), which a remote
runner's job reports while it runs (`Reporter.poll_result`), and into a tally in this process, which
the DirectRunner's in-process workers update as they go (`Reporter` thread). Nothing here changes
what the pipeline computes.
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Dict, Optional

import apache_beam as beam

from common import events as ev

NAMESPACE = "progress"
log = logging.getLogger("pipeline")

_lock = threading.Lock()
_tally: Dict[str, list] = {}  # source → [docs, bytes], this process only


def reset() -> None:
    with _lock:
        _tally.clear()


def snapshot() -> Dict[str, tuple]:
    with _lock:
        return {s: tuple(v) for s, v in _tally.items()}


class _Count(beam.DoFn):
    def __init__(self):
        self.counters = {}

    def _counter(self, name):
        c = self.counters.get(name)
        if c is None:
            c = self.counters[name] = beam.metrics.Metrics.counter(NAMESPACE, name)
        return c

    def process(self, e):
        if e.kind == ev.READ:
            self._counter(f"{e.source}:docs_read").inc(e.count)
            self._counter(f"{e.source}:bytes_read").inc(e.nbytes)
            with _lock:
                t = _tally.setdefault(e.source, [0, 0])
                t[0] += e.count
                t[1] += e.nbytes
        yield e


class Track(beam.PTransform):
    """events → the same events, counted for progress."""

    def expand(self, events):
        return events | beam.ParDo(_Count())


def format_line(counts: Dict[str, tuple], elapsed: float) -> str:
    parts = []
    for source in sorted(counts):
        docs, nbytes = counts[source]
        mb = nbytes / 1e6
        parts.append(f"{source} {docs:,} docs {mb:,.2f} MB ({mb / max(elapsed, 1e-9):.2f} MB/s)")
    return f"progress {elapsed:5.0f}s: " + (" | ".join(parts) if parts else "reading inputs…")


class Reporter:
    """A daemon thread printing a progress line every `every` seconds while the block runs."""

    def __init__(self, every: float, stream=None):
        self.every = every
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._last = None

    def _loop(self):
        while not self._stop.wait(self.every):
            self.emit(snapshot())

    def emit(self, counts) -> None:
        if counts == self._last:
            return  # nothing new: no line (fused stages can run long without reading)
        self._last = counts
        print(format_line(counts, time.monotonic() - self.start), file=self.stream, flush=True)

    def poll_result(self, result) -> None:
        """A remote runner's job: print its progress counters until it ends."""
        from apache_beam.runners.runner import PipelineState

        while not PipelineState.is_terminal(result.state):
            try:
                counters = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE))["counters"]
            except Exception:  # metrics not available yet on this runner
                counters = []
            counts: Dict[str, list] = {}
            for c in counters:
                source, _, what = c.key.metric.name.partition(":")
                value = c.attempted if c.attempted is not None else c.committed
                counts.setdefault(source, [0, 0])[0 if what == "docs_read" else 1] += value or 0
            self.emit({s: tuple(v) for s, v in counts.items()})
            result.wait_until_finish(duration=int(self.every * 1000))

    def __enter__(self):
        reset()
        if self.every > 0:
            self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        return False
