"""Will this run fit on this machine? A DirectRunner run holds intermediate results in memory, so
its peak RSS grows with the input; `python -m pipeline.run` warns before it starts when the local
inputs are larger than this machine can hold, and names the runners to use instead.

The figures are measured by bench/bench_scale.py (docs/benchmarks.md). The inputs are sized from
local file metadata only (nothing is opened or downloaded); remote inputs and whole-dump listings
are named instead of sized.
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

from apache_beam.io.filesystems import FileSystems

# Peak RSS of the CommonCrawl path (the chain bench/bench_commoncrawl.py measures: LLaMA recipe,
# quality models trained and applied), docs/benchmarks.md: a run's fixed peak is ~880 MiB (models,
# their training, Beam, the interpreter), and it holds up to ~30 MB of real pages (bench_commoncrawl,
# 3-31 MB: +0.006 MiB per MB); above it, bench/bench_scale.py measured 4.3-4.5 MiB per MB between its
# 8 and 32 MB runs (877 -> 979-984 MiB). That slope is a lower bound: the 8 MB run's peak is the
# fixed part's, so the data's own share may start lower (issue 27 saw 650 MiB + 3.0 per MB on a 50 MB
# corpus) and climb faster, up to ~10 per MB. The warning assumes 10 on top of the fixed 900 (earlier
# 16, from a bench that did not apply the quality models): late is the failure.
RSS_MB_PER_TEXT_MB = 10.0
FIXED_RSS_MB = 900.0
# gzip'd WET holds ~1.9 bytes of text per byte of file (the bench corpus 1.88, the real samples 1.85).
TEXT_PER_GZ_BYTE = 1.9
# Leave room for the OS and the page cache: warn above this share of the machine's memory.
USABLE_SHARE = 0.8

RUNNERS = ("Dataflow (--runner=DataflowRunner), or Flink or Spark through Beam's portable runner "
           "(--runner=FlinkRunner / --runner=SparkRunner): see docs/scale-out.md")


def machine_memory_bytes() -> int:
    """This machine's memory, or the control group's limit when lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as f:
                value = f.read().strip()
        except OSError:
            continue
        if value.isdigit():
            total = min(total, int(value))
    return total


def local_text_bytes(patterns: Sequence[str]) -> Tuple[int, List[str]]:
    """(estimated bytes of text in the local files the patterns match, the patterns not sized:
    URLs, gs://, listings). Sizes come from file metadata; gzip'd files count TEXT_PER_GZ_BYTE."""
    total, unsized = 0, []
    for pattern in patterns:
        if "://" in pattern or pattern.endswith(".paths.gz"):
            unsized.append(pattern)
            continue
        try:
            matched = [m for r in FileSystems.match([pattern]) for m in r.metadata_list]
        except Exception:  # the run itself reports an unreadable pattern, counted
            continue
        for m in matched:
            factor = TEXT_PER_GZ_BYTE if m.path.endswith((".gz", ".bz2", ".7z", ".tar")) else 1.0
            total += int(m.size_in_bytes * factor)
    return total, unsized


def needed_rss_bytes(text_bytes: int) -> int:
    return int((FIXED_RSS_MB + RSS_MB_PER_TEXT_MB * text_bytes / 1e6) * 1e6)


def direct_runner_warning(text_bytes: int, unsized: Sequence[str], whole_dumps: Sequence[str],
                          memory_bytes: int) -> Optional[str]:
    """The warning to print before a DirectRunner run, or None when it fits."""
    need = needed_rss_bytes(text_bytes)
    if whole_dumps:
        return (f"the DirectRunner cannot hold whole CommonCrawl dumps ({', '.join(whole_dumps)}: ~24 TB of text "
                f"each, CCNet §3) in this machine's {memory_bytes / 1e9:.0f} GB; use {RUNNERS}")
    if need <= USABLE_SHARE * memory_bytes:
        return None
    more = f" (plus {len(unsized)} remote input(s) not sized)" if unsized else ""
    return (f"inputs of ~{text_bytes / 1e9:.1f} GB of text{more} need ~{need / 1e9:.0f} GB of memory on the DirectRunner "
            f"({RSS_MB_PER_TEXT_MB:g} MB per MB, bench/bench_scale.py), more than this machine's "
            f"{memory_bytes / 1e9:.0f} GB; use {RUNNERS}")
