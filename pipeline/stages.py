"""Thin Beam wrappers that run plain per-document filters and keep the books.

A *filter* is any callable `doc -> Document | str | Drop`: it returns the (possibly rewritten)
document to keep it, or a reason string to drop it (or `Drop(reason, doc)`: dropped, with the
document as the rejects file should show it, e.g. with its measured signals). `ApplyFilter` runs
one over a PCollection, counts each reason with `beam.metrics`, and emits a drop `Event` for
every removed document, so the stage's output is `(docs, events)`. A filter with a `tallies`
dict (name → count) has it drained into counters of the same names after each document
(the counts set back to 0), and into `tally` events summed per bundle (stats.json keeps them).
A kept document whose text the filter changed counts as a `trimmed` event named after the filter's
class (`WikipediaPageCleaner`), summed per bundle: the bytes and characters a cleaner removed
(pipeline/funnel.py puts them in their step).

Rejects (`--write_rejects`): `collect_rejects(pipeline)` before the graph is built makes every
`ApplyFilter` of that pipeline also emit its dropped documents, each with `meta["reason"]`; the
run writes `collected_rejects(pipeline)` beside the curated output.
"""
from __future__ import annotations

import weakref
from typing import Callable, Iterable, NamedTuple

import apache_beam as beam
from apache_beam.utils import shared
from apache_beam.utils.windowed_value import WindowedValue

from common import events as ev
from common.record import Document

Filter = Callable[[Document], "Document | str | Drop"]
REJECTS = "rejects"
REJECT_REASON = "reason"  # the meta key (and rejects column) naming why a document was dropped


class Drop(NamedTuple):
    reason: str
    doc: Document  # the document as dropped, for the rejects file


_REJECT_COLLECTORS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def collect_rejects(pipeline) -> None:
    """From now on, every ApplyFilter built in `pipeline` also emits its dropped documents."""
    _REJECT_COLLECTORS[pipeline] = []


def add_rejects(pipeline, rejected) -> None:
    """Register a PCollection of rejected documents (meta["reason"] set), when collecting."""
    if pipeline in _REJECT_COLLECTORS:
        _REJECT_COLLECTORS[pipeline].append(rejected)


def collecting_rejects(pipeline) -> bool:
    return pipeline in _REJECT_COLLECTORS


def collected_rejects(pipeline) -> list:
    return list(_REJECT_COLLECTORS.get(pipeline, ()))


def rejected(reason: str, doc: Document) -> Document:
    return doc.with_meta(**{REJECT_REASON: reason})


class Counters:
    """The Beam counters of one namespace, each made once: `Metrics.counter` builds a MetricName on
    every call, a visible cost when called per document."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self._by_name: dict = {}

    def inc(self, name: str, n: int = 1) -> None:
        counter = self._by_name.get(name)
        if counter is None:
            counter = self._by_name[name] = beam.metrics.Metrics.counter(self.namespace, name)
        counter.inc(n)


BATCH = 64  # documents a batched step (language id, perplexity) holds back per model call


def in_window(out, window, timestamp):
    """An output of a document held back from `process` (a TaggedOutput or a plain one), as Beam
    must get it from a buffer flush: in that document's window, with its timestamp."""
    if isinstance(out, beam.pvalue.TaggedOutput):
        return beam.pvalue.TaggedOutput(out.tag, WindowedValue(out.value, timestamp, [window]))
    return WindowedValue(out, timestamp, [window])


class _FilterDoFn(beam.DoFn):
    def __init__(self, namespace: str, make_filter: Callable[[], Filter], shared_handle=None, rejects=False):
        self.namespace = namespace
        self.make_filter = make_filter
        self.shared_handle = shared_handle
        self.rejects = rejects
        self.fn = None
        self.tallies = None
        self.counters = Counters(namespace)

    def setup(self):
        if self.shared_handle is not None:
            # One instance per worker process (big models: fastText, KenLM, SentencePiece).
            self.fn = self.shared_handle.acquire(self.make_filter)
        else:
            self.fn = self.make_filter()
        self.tallies = getattr(self.fn, "tallies", None)
        self.trim_name = type(self.fn).__name__

    def start_bundle(self):
        self.totals = ev.Totals()

    def finish_bundle(self):
        for event in self.totals.events():
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.windowed(event))

    def process(self, doc: Document):
        yield from self._one(doc)

    def _one(self, doc: Document, prediction=None):
        try:
            result = self.fn(doc) if prediction is None else self.fn(doc, prediction)
        except MemoryError:  # what the readers' limits missed costs this document, not the job
            self.counters.inc("drop:bad_input:out_of_memory")
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(
                doc.source, "out_of_memory", doc.id, f"MemoryError in {self.namespace}", doc.nbytes))
            return
        if self.tallies:
            for name, n in self.tallies.items():
                if n:
                    self.counters.inc(name, n)
                    self.totals.tally(doc.source, name, n)
                    self.tallies[name] = 0
        if isinstance(result, (str, Drop)):
            reason, dropped = (result, doc) if isinstance(result, str) else result
            self.counters.inc("drop:" + reason)
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, reason, doc.nbytes))
            if self.rejects:
                yield beam.pvalue.TaggedOutput(REJECTS, rejected(reason, dropped))
        else:
            self.counters.inc("kept")
            self.totals.trim_between(doc, result, self.trim_name)
            yield result


class _BatchedFilterDoFn(_FilterDoFn):
    """`_FilterDoFn` for a filter with `predict_many(docs)` (a model's predictions for a list of
    documents) and `__call__(doc, prediction)`: `BATCH` documents of a bundle at a time, in arrival
    order, one model call per batch instead of per document, with the model's working set hot for
    the whole batch instead of evicted by the fused steps between two documents. The same outputs,
    in the same order, each in its own document's window (a subclass: the window and timestamp
    parameters put a DoFn on Beam's slower per-window path, which the other filters need not pay)."""

    BATCH = BATCH

    def setup(self):
        super().setup()
        self.predict_many = getattr(self.fn, "predict_many", None)
        if self.predict_many is None:
            raise TypeError(f"{type(self.fn).__name__} has no predict_many: use ApplyFilter without batched=True")

    def start_bundle(self):
        super().start_bundle()
        self.pending = []

    def finish_bundle(self):
        yield from self._flush()
        yield from super().finish_bundle()

    def process(self, doc: Document, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam):
        self.pending.append((doc, window, timestamp))
        if len(self.pending) >= self.BATCH:
            yield from self._flush()

    def _flush(self):
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            predictions = self.predict_many([doc for doc, _, _ in pending])
        except MemoryError:  # one at a time then: a MemoryError costs its own document only
            predictions = [None] * len(pending)
        for (doc, window, timestamp), prediction in zip(pending, predictions):
            for out in self._one(doc, prediction):
                yield in_window(out, window, timestamp)


class ApplyFilter(beam.PTransform):
    """docs → (kept docs, drop events). `share_per_process=True` loads the filter once per process;
    `batched=True` gives a filter with `predict_many` its documents in batches (`_BatchedFilterDoFn`)."""

    def __init__(self, make_filter: Callable[[], Filter], share_per_process: bool = False, label=None,
                 batched: bool = False):
        super().__init__(label)
        self.make_filter = make_filter
        self.share = share_per_process
        self.batched = batched

    def expand(self, docs):
        handle = shared.Shared() if self.share else None
        namespace = self.label or "filter"
        rejects = collecting_rejects(docs.pipeline)
        tags = (ev.EVENTS, REJECTS) if rejects else (ev.EVENTS,)
        dofn = (_BatchedFilterDoFn if self.batched else _FilterDoFn)(namespace, self.make_filter, handle, rejects)
        out = docs | beam.ParDo(dofn).with_outputs(*tags, main="docs")
        if rejects:
            add_rejects(docs.pipeline, out[REJECTS])
        return out.docs, out[ev.EVENTS]


def flatten(label: str, pcolls: Iterable) -> "beam.PCollection":
    """Flatten a list of PCollections (events of several stages) into one."""
    return tuple(pcolls) | label >> beam.Flatten()


class ReadFileOutcomes(beam.DoFn):
    """path → what `reader(path, stream)` finds in it: `Document`s and drop/bad-input `Event`s.

    Each outcome is one document in and then either passed on or counted out; the documents in are
    summed into one `read` event per file. A file that cannot be opened at all (missing, a FIFO or
    device, or a download that failed after its retries or broke `download`, the recipe's
    `inputs.download`) is one `bad_input:unreadable_file` (or more precise) unit; one that breaks
    off midway keeps what was read before. A zero-byte file is one `bad_input:empty_file` unit, one
    read to its end without a single outcome (a WAT file given as WARC input) one
    `bad_input:no_records` unit (either would otherwise vanish from the books), and a `MemoryError`
    while reading is one `bad_input:out_of_memory` unit after what was read before it.
    """

    def __init__(self, source: str, reader: Callable, namespace: str, download=None):
        self.source = source
        self.reader = reader
        self.namespace = namespace
        self.download = download
        self.counters = Counters(namespace)

    def process(self, path: str):
        from pipeline.inputs import open_binary, with_head

        n = nbytes = 0
        try:
            with open_binary(path, self.download) as stream:
                head = stream.read(4096)  # enough for any magic-number peek after it is un-read
                if not head:
                    self.counters.inc("bad_input:empty_file")
                    yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(self.source, 0))
                    yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(self.source, "empty_file", path, "zero bytes"))
                    return
                if stream.seekable():
                    stream.seek(0)
                else:
                    stream = with_head(head, stream)
                for outcome in self.reader(path, stream):
                    n += 1
                    nbytes += outcome.nbytes
                    if isinstance(outcome, ev.Event):
                        self.counters.inc(outcome.reason)
                        yield beam.pvalue.TaggedOutput(ev.EVENTS, outcome)
                    else:
                        self.counters.inc("documents")
                        yield outcome
            if not n:
                self.counters.inc("bad_input:" + ev.NO_RECORDS)
                for event in ev.no_records(self.source, path):
                    yield beam.pvalue.TaggedOutput(ev.EVENTS, event)
        except OSError as e:
            for event in ev.unreadable_file(self.source, path, e):
                yield beam.pvalue.TaggedOutput(ev.EVENTS, event)
        except MemoryError:
            n += 1
            self.counters.inc("bad_input:out_of_memory")
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(
                self.source, "out_of_memory", path, f"MemoryError after {n - 1} units read"))
        if n:
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.read(self.source, nbytes, count=n))
