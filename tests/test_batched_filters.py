"""Language id in batches (pipeline.stages._BatchedFilterDoFn, for a filter with `predict_many`): one of issue
27's speed-ups of the CommonCrawl chain, leaving every output the same. tests/test_cc_chain_bytes.py
holds the curated bytes of the whole chain; this checks the piece on real pages: the same
predictions, kept documents, drops, tallies and timestamps as one call per document, through Beam."""
from __future__ import annotations

from collections import Counter

import apache_beam as beam
from apache_beam.transforms import window

from common import events as ev
from common.record import Document, make_id
from filters.langid import LanguageFilter, LanguageId
from pipeline.stages import ApplyFilter, _BatchedFilterDoFn, _FilterDoFn
from tests.conftest import SHARED
from tests.real_pages import real_pages

LID = str(SHARED / "models" / "lid.176.ftz")


def page_docs():
    # More than two batches, the last one partial; short and empty texts among them.
    texts = [p.text for p in real_pages()] + ["", "\n\n", "1234", "ok"]
    assert len(texts) > 2 * _BatchedFilterDoFn.BATCH and len(texts) % _BatchedFilterDoFn.BATCH
    # Two sources (two dumps) mixed in each batch: tallies must go to each document's own source.
    sources = ("commoncrawl/CC-MAIN-2020-34", "commoncrawl/CC-MAIN-2023-06")
    return [Document(make_id("commoncrawl", str(i)), sources[i % 2], t, f"https://example.invalid/{i}", {})
            for i, t in enumerate(texts)]


def test_predict_many_is_predict_per_text():
    lid = LanguageId(LID)
    texts = [d.text for d in page_docs()]
    one_by_one = []
    for text in texts:  # fastText called once per text, as before batching
        labels, scores = lid.model.predict([text.replace("\n", " ")], k=1)
        one_by_one.append((labels[0][0].replace("__label__", ""), round(float(scores[0][0]), 4)))
    assert lid.predict_many(texts) == one_by_one
    assert [lid.predict(t) for t in texts] == one_by_one
    assert len({lang for lang, _ in one_by_one}) >= 3  # English, German and others: not a trivial case


class _Factory:
    def __call__(self):
        return LanguageFilter(LID, ["en"], 0.5)


def reference(docs):
    """Document by document, as the filter's plain function: kept docs, drop reasons and tallies
    per (source, name)."""
    f = LanguageFilter(LID, ["en"], 0.5)
    kept, drops, tallies = [], Counter(), Counter()
    for doc in docs:
        result = f(doc)
        for name, n in f.tallies.items():
            if n:
                tallies[(doc.source, name)] += n
                f.tallies[name] = 0
        if isinstance(result, str):
            drops[(doc.source, result)] += 1
        else:
            kept.append(result)
    return kept, drops, tallies


_COLLECTED: dict = {}  # the FnApiRunner runs in this process: functions by name, this dict shared


def _collect(values, name):
    _COLLECTED[name] = values


def _with_timestamp(doc, t=beam.DoFn.TimestampParam):
    return doc.id, doc, t.micros


def test_batched_filter_through_beam_keeps_outputs_and_their_timestamps():
    docs = page_docs()
    kept_ref, drops_ref, tallies_ref = reference(docs)
    assert drops_ref and kept_ref
    with beam.Pipeline(runner="FnApiRunner") as p:
        # Each document stamped with its index: an output built from another document's place in
        # the batch would carry the wrong one (the project's pipelines are in the global window).
        stamped = (p | beam.Create([(i, d) for i, d in enumerate(docs)])
                   | beam.Map(lambda x: window.TimestampedValue(x[1], x[0])))
        kept, events = stamped | ApplyFilter(_Factory(), share_per_process=True, label="LanguageId", batched=True)
        kept | beam.Map(_with_timestamp) | "KeptList" >> beam.combiners.ToList() | "Kept" >> beam.Map(_collect, "kept")
        events | "EventsList" >> beam.combiners.ToList() | "Events" >> beam.Map(_collect, "events")
    result = _COLLECTED
    by_id = {doc_id: (doc, start) for doc_id, doc, start in result["kept"]}
    assert sorted(by_id) == sorted(d.id for d in kept_ref)
    index = {d.id: i for i, d in enumerate(docs)}
    for doc in kept_ref:  # the same document, meta included, with its input's timestamp
        got, micros = by_id[doc.id]
        assert got == doc
        assert micros == index[doc.id] * 10 ** 6
    drops, tallies = Counter(), Counter()
    for e in result["events"]:
        if e.kind == ev.DROP:
            drops[(e.source, e.reason)] += e.count
        elif e.kind == ev.TALLY:
            tallies[(e.source, e.reason)] += e.count
    assert drops == drops_ref
    assert tallies == tallies_ref


class _CountingBatches(LanguageFilter):
    """The real filter, noting the size of each batch it is given."""

    def __init__(self, *args):
        super().__init__(*args)
        self.batches = []

    def predict_many(self, docs):
        self.batches.append(len(docs))
        return super().predict_many(docs)


class _FailingBatch(LanguageFilter):
    """The real filter whose batch call runs out of memory: each document is then decided alone."""

    def predict_many(self, docs):
        raise MemoryError


def run_bundle(fn, docs) -> list:
    fn.setup()
    fn.start_bundle()
    return [o for d in docs for o in fn.process(d, window.GlobalWindow(), 0)] + list(fn.finish_bundle())


def kept_of(outs) -> list:
    return [o.value for o in outs if not isinstance(o, beam.pvalue.TaggedOutput)]


def test_documents_go_to_the_model_in_batches_of_a_bundle():
    docs = page_docs()
    fn = _BatchedFilterDoFn("LanguageId", lambda: _CountingBatches(LID, ["en"], 0.5))
    kept = kept_of(run_bundle(fn, docs))
    batch = _BatchedFilterDoFn.BATCH
    assert fn.fn.batches == [batch] * (len(docs) // batch) + [len(docs) % batch]  # the rest at finish_bundle
    assert [d.id for d in kept] == [d.id for d in reference(docs)[0]]


def test_memory_error_in_a_batch_decides_each_document_alone():
    docs = page_docs()[:_BatchedFilterDoFn.BATCH + 3]
    kept = kept_of(run_bundle(_BatchedFilterDoFn("LanguageId", lambda: _FailingBatch(LID, ["en"], 0.5)), docs))
    expected = [d.id for d in reference(docs)[0]]
    assert expected and [d.id for d in kept] == expected


def test_a_filter_without_predict_many_is_not_batched():
    assert "window" not in _FilterDoFn.process.__code__.co_varnames  # Beam's per-element path, not per window
    fn = _BatchedFilterDoFn("books_clean", lambda: (lambda doc: doc))
    try:
        fn.setup()
    except TypeError as e:
        assert "predict_many" in str(e)
    else:
        raise AssertionError("a batched filter without predict_many was accepted")


def test_the_sources_language_id_is_batched():
    from pipeline import recipe as recipes
    from pipeline.sources.commoncrawl import language_filter

    recipe = recipes.load()
    for source in ("commoncrawl", "c4"):  # both build their language id with language_filter
        assert language_filter(recipe, recipe[source]).batched, source
