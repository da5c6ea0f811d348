"""Accounting events: how every input document is counted in or counted out.

Each stage emits, beside its documents, `Event`s on a tagged output named `EVENTS`:
- `read(source, nbytes)` once per input document a reader produced or failed to produce
  (an unreadable unit counts as one document in, then one `bad_input:*` drop);
- `drop(source, reason, nbytes)` once per document a stage removes, with its reason;
- `bad_input(source, reason, path, detail)` for an unreadable unit: a drop whose reason starts
  with `bad_input:` and that names the file, so it lands in the quarantine list;
- `written(source, nbytes)` once per document the sink wrote;
- `trimmed(source, what, nbytes, chars, count)`: text a step removed from documents it *kept*
  (line dedup's removed lines, a cleaner's markup), named by what removed it (`line_dedup`);
- `tally(source, name, n)`: a count stats.json keeps beside the accounts (the languages the
  language step saw, the perplexity histogram), not a document in or out.
`read` and `written` may stand for several documents (`count`, with their summed bytes): readers
emit one per file and the sink one per shard; `trimmed` and `tally` are summed per bundle
(`Totals`), so per-document events do not cross the shuffle.
`pipeline.stats` sums them per (source, kind, reason) and checks docs_in == docs_out + Σ dropped,
and, step by step (`pipeline.funnel`), that the bytes read less the bytes dropped and trimmed are
the bytes written.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from common import progress

EVENTS = "events"

READ = "in"
DROP = "drop"
WRITTEN = "out"
TRIM = "trim"
TALLY = "tally"


class Event(NamedTuple):
    source: str
    kind: str  # READ, DROP or WRITTEN
    reason: str  # drop reason; "" for READ/WRITTEN
    nbytes: int
    path: Optional[str] = None  # only for bad input: the file to quarantine
    detail: Optional[str] = None  # only for bad input: what was wrong
    count: int = 1  # documents this event stands for (readers and the sink sum theirs per file/shard)
    chars: int = 0  # only for TRIM: characters removed (nbytes: UTF-8 bytes removed)


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


def trimmed(source: str, what: str, nbytes: int, chars: int, count: int = 1) -> Event:
    """`count` kept documents lost `nbytes` bytes (`chars` characters) of text to `what`."""
    return Event(source, TRIM, what, nbytes, count=count, chars=chars)


def tally(source: str, name: str, n: int = 1) -> Event:
    return Event(source, TALLY, name, 0, count=n)


class Totals:
    """Trims and tallies of one bundle, summed per (source, kind, name): a DoFn adds to it per
    document and emits `events()` once, from `finish_bundle` (see `windowed`)."""

    def __init__(self):
        self._sums: dict = {}

    def trim(self, source: str, what: str, nbytes: int, chars: int) -> None:
        s = self._sums.setdefault((source, TRIM, what), [0, 0, 0])
        s[0] += 1
        s[1] += nbytes
        s[2] += chars

    def trim_between(self, before, after, what: str) -> None:
        """Count the text `after` (a Document) lost against `before`, when its text changed."""
        if after.text is not before.text and after.text != before.text:
            self.trim(before.source, what, before.nbytes - after.nbytes, len(before.text) - len(after.text))

    def tally(self, source: str, name: str, n: int = 1) -> None:
        s = self._sums.setdefault((source, TALLY, name), [0, 0, 0])
        s[0] += n

    def events(self) -> list:
        out = [Event(source, kind, name, nbytes, count=n, chars=chars)
               for (source, kind, name), (n, nbytes, chars) in sorted(self._sums.items())]
        self._sums.clear()
        return out


def windowed(event: Event):
    """`event` as `finish_bundle` must yield it (in the global window)."""
    from apache_beam.transforms.window import GlobalWindow
    from apache_beam.utils.windowed_value import WindowedValue

    return WindowedValue(event, GlobalWindow().max_timestamp(), [GlobalWindow()])
