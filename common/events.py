"""Accounting events: how every input document is counted in or counted out.

Each stage emits, beside its documents, `Event`s on a tagged output named `EVENTS`:
- `read(source, nbytes)` once per input document a reader produced or failed to produce
  (an unreadable unit counts as one document in, then one `bad_input:*` drop);
- `drop(source, reason, nbytes)` once per document a stage removes, with its reason;
- `bad_input(source, reason, path, detail)` for an unreadable unit: a drop whose reason starts
  with `bad_input:` and that names the file, so it lands in the quarantine list;
- `written(source, nbytes)` once per document the sink wrote.
`read` and `written` may stand for several documents (`count`, with their summed bytes): readers
emit one per file and the sink one per shard, so per-document events do not cross the shuffle.
`pipeline.stats` sums them per (source, kind, reason) and checks docs_in == docs_out + Σ dropped.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from common import progress

EVENTS = "events"

READ = "in"
DROP = "drop"
WRITTEN = "out"


class Event(NamedTuple):
    source: str
    kind: str  # READ, DROP or WRITTEN
    reason: str  # drop reason; "" for READ/WRITTEN
    nbytes: int
    path: Optional[str] = None  # only for bad input: the file to quarantine
    detail: Optional[str] = None  # only for bad input: what was wrong
    count: int = 1  # documents this event stands for (readers and the sink sum theirs per file/shard)


def read(source: str, nbytes: int, count: int = 1) -> Event:
    progress.note_read(source, count, nbytes)  # what a run shows while it reads
    return Event(source, READ, "", nbytes, count=count)


def drop(source: str, reason: str, nbytes: int) -> Event:
    return Event(source, DROP, reason, nbytes)


def bad_input(source: str, reason: str, path: str, detail: str, nbytes: int = 0) -> Event:
    """An unreadable unit. `reason` is the part after `bad_input:` (e.g. "truncated_gzip")."""
    if not reason.startswith("bad_input:"):
        reason = "bad_input:" + reason
    return Event(source, DROP, reason, nbytes, path, detail[:500])


def unreadable_file(source: str, path: str, error: BaseException) -> tuple:
    """A whole input that could not be opened or downloaded: one document in, one bad input out,
    `bad_input:unreadable_file` or the error's own `bad_input_reason` (`special_file`, `download_too_large`, ...)."""
    reason = getattr(error, "bad_input_reason", None) or "unreadable_file"
    return read(source, 0), bad_input(source, reason, path, f"{type(error).__name__}: {error}")


NO_RECORDS = "no_records"


def no_records(source: str, path: str) -> tuple:
    """An input that was read to its end and held no record (a WAT file given as WARC input, a
    dump without pages): one document in, one `bad_input:no_records` out, so it is not lost."""
    return read(source, 0), bad_input(source, NO_RECORDS, path, "read to its end: no record of this source in it")


def written(source: str, nbytes: int, count: int = 1) -> Event:
    return Event(source, WRITTEN, "", nbytes, count=count)
