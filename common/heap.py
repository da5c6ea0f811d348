"""Keep the C heap between bundles instead of handing it back to the kernel after each.

glibc serves a large allocation with its own `mmap` and unmaps it when freed, and returns free
memory at the top of its heap once it passes a threshold; the next bundle's buffers (encoded
elements, numpy columns, texts) then fault every page in again, zero-filled by the kernel. On the
CommonCrawl chain that was ~9,000 page faults and ~0.03 CPU s of system time per MB of WET text
(bench/bench_commoncrawl.py); with these settings about a third of that. Peak memory is unchanged: what
is kept is what the next bundle takes again.

`keep_heap()` sets glibc's `mallopt` in this process (its environment variables are read once, at
start) and the same variables in `os.environ` for the processes it starts (KenLM and fastText
training, the runner's workers). A value already in the environment wins. Elsewhere (musl, macOS)
it does nothing. The Dataflow worker image sets the same variables (Dockerfile).
"""
from __future__ import annotations

import ctypes
import os
import sys

# Environment variable → (mallopt parameter, value); glibc's malloc.h numbers.
SETTINGS = {
    "MALLOC_TRIM_THRESHOLD_": (-1, 256 << 20),  # M_TRIM_THRESHOLD: free top of heap kept up to this
    "MALLOC_TOP_PAD_": (-2, 16 << 20),  # M_TOP_PAD: grow the heap in steps this large
    "MALLOC_MMAP_THRESHOLD_": (-3, 64 << 20),  # M_MMAP_THRESHOLD: smaller blocks come from the heap
}


def keep_heap() -> bool:
    """Apply SETTINGS here and for child processes; True when this process' allocator took them."""
    for name, (_, value) in SETTINGS.items():
        os.environ.setdefault(name, str(value))
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    taken = True
    for name, (param, _) in SETTINGS.items():
        try:
            value = int(os.environ[name])
        except ValueError:  # a user's setting glibc ignores too
            continue
        taken = bool(mallopt(param, value)) and taken
    return taken
