"""The benchmarks' clock: CPU seconds of this process plus its reaped children (fastText trains,
KenLM builds and pipeline runs happen in children), never wall time."""
from __future__ import annotations

import resource
import time


def cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(fn) -> float:
    """CPU seconds `fn()` took."""
    start = cpu()
    fn()
    return cpu() - start
