"""Documents and bytes read so far, per source: what `pipeline.progress` prints while a run goes.

`events.read` (every reader's accounting of what it read) calls `note_read`, so the figures rise as
the readers work, not when a later stage sees their events (a Flatten there waits for every input).
Two sinks: a tally in this process (the DirectRunner's workers run in it) and Beam counters in the
namespace `progress` (`<source>:docs_read`, `<source>:bytes_read`) that a remote runner's job reports.
"""
from __future__ import annotations

import threading
from typing import Dict, Tuple

NAMESPACE = "progress"
_lock = threading.Lock()
_tally: Dict[str, list] = {}
_counters: Dict[str, object] = {}


def _counter(name: str):
    c = _counters.get(name)
    if c is None:
        from apache_beam.metrics import Metrics  # a no-op outside a running DoFn

        c = _counters[name] = Metrics.counter(NAMESPACE, name)
    return c


def note_read(source: str, count: int, nbytes: int) -> None:
    with _lock:
        t = _tally.get(source)
        if t is None:
            t = _tally[source] = [0, 0]
        t[0] += count
        t[1] += nbytes
    _counter(source + ":docs_read").inc(count)
    _counter(source + ":bytes_read").inc(nbytes)


def snapshot() -> Dict[str, Tuple[int, int]]:
    with _lock:
        return {s: (v[0], v[1]) for s, v in _tally.items()}


def reset() -> None:
    with _lock:
        _tally.clear()
