"""The benchmarks' clock: CPU seconds of this process plus its reaped children (fastText trains,
KenLM builds and pipeline runs happen in children), never wall time.

`repeat(fn, n)` runs a measurement n times and `spread(values)` gives the min and the median that
every results file records; `run_child(cmd)` runs one child process and returns its own CPU
seconds and peak RSS (`os.wait4`: that child alone, not the sum over every child reaped so far).
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import tempfile
import time
from typing import Callable, List, NamedTuple, Sequence

MIN_REPEATS = 3  # every timed figure is the min and the median of at least this many runs


def cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(fn) -> float:
    """CPU seconds `fn()` took."""
    start = cpu()
    fn()
    return cpu() - start


def repeat(fn: Callable[[], object], n: int) -> List[float]:
    """CPU seconds of each of `n` runs of `fn()` (at least MIN_REPEATS)."""
    return [timed(fn) for _ in range(max(MIN_REPEATS, int(n)))]


def spread(values: Sequence[float]) -> dict:
    """{"min", "median", "runs"} of a figure's measurements (CPU seconds, or a rate or a ratio
    computed per round)."""
    values = [float(v) for v in values]
    return {"min": min(values), "median": statistics.median(values), "runs": [round(v, 4) for v in values]}


class ChildUsage(NamedTuple):
    cpu_s: float  # user + system CPU seconds of the child (and the children it waited for)
    peak_rss_mb: float  # its largest resident set, MiB
    stdout: str


def run_child(cmd: Sequence[str], cwd=None, env=None) -> ChildUsage:
    """Run `cmd` to completion; raise with its stderr's tail when it fails. Its output goes to
    temporary files (a full pipe would block it before `wait4` reaps it)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if proc.returncode:
        raise RuntimeError(f"{' '.join(map(str, cmd[:6]))}... failed ({proc.returncode}):\n{stderr[-3000:]}")
    return ChildUsage(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout)
