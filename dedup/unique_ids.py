"""One document per id: the last step of every source's composite, so no id reaches the sink twice.

An id names a document's place (a WARC record, a page of a wiki, a path in a repository, a
question of a site), so two documents with one id are one document read twice, whatever their
text: a page id repeated in a dump, two members at one path of a tar, one record in two files.
Whole inputs read twice are caught earlier, by name (`pipeline.inputs.input_key`); this catches the
rest. The survivor of an id is the smallest (text, url, meta) of its documents, so it does not
depend on the runner's order; every other is a `duplicate_id` drop.

Cost: only ids cross a shuffle to find the repeated ones (a combiner sums them before it); those
few ids come back as a side input, and only their documents are grouped. The text of a corpus
without repeats is never shuffled here.
"""
from __future__ import annotations

import apache_beam as beam

from common import events as ev
from common.record import Document, meta_json

REASON = "duplicate_id"
_REPEATED = "repeated"


def survivor_key(doc: Document):
    return doc.text, doc.url or "", meta_json(doc.meta)


class _Route(beam.DoFn):
    """doc → itself when its id is unique; (id, fields) on `repeated` when it is not."""

    def process(self, doc: Document, repeated):
        if doc.id in repeated:
            yield beam.pvalue.TaggedOutput(_REPEATED, (doc.id, tuple(doc)))
        else:
            yield doc


class _KeepOne(beam.DoFn):
    def process(self, element):
        _, group = element
        docs = [Document._make(fields) for fields in group]
        keep = min(docs, key=survivor_key)
        yield keep
        for doc in docs:
            if doc is not keep:
                beam.metrics.Metrics.counter("unique_ids", "drop:" + REASON).inc()
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, REASON, doc.nbytes))


class UniqueIds(beam.PTransform):
    """docs → (docs with distinct ids, `duplicate_id` drop events)."""

    def expand(self, docs):
        repeated = (docs
                    | "Ids" >> beam.Map(lambda d: (d.id, 1))
                    | "CountIds" >> beam.CombinePerKey(sum)
                    | "Repeated" >> beam.Filter(lambda kv: kv[1] > 1))
        routed = docs | "Route" >> beam.ParDo(_Route(), beam.pvalue.AsDict(repeated)).with_outputs(_REPEATED, main="unique")
        kept = (routed[_REPEATED]
                | "GroupRepeated" >> beam.GroupByKey()
                | "KeepOne" >> beam.ParDo(_KeepOne()).with_outputs(ev.EVENTS, main="docs"))
        return (routed.unique, kept.docs) | "AllUnique" >> beam.Flatten(), kept[ev.EVENTS]
