"""Progress while curating: documents and MB read per source, with rate, every few seconds.

The figures come from `common.progress`, which every reader's `events.read` feeds: a tally in this
process, which the DirectRunner's in-process workers update as they go (`Reporter`'s thread prints
it), and Beam counters (namespace `progress`), which a remote runner's job reports while it runs
(`Reporter.poll_result`). Nothing here changes what the pipeline computes.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Dict, Optional

import apache_beam as beam

from common import progress as tally
from common.progress import NAMESPACE


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
            self.emit(tally.snapshot())

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
        tally.reset()
        if self.every > 0:
            self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.every > 0 and exc[0] is None:
            self.emit(tally.snapshot())  # the last counts, also when the run took less than one interval
        return False
