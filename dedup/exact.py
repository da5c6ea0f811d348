"""Exact document dedup by a normalised content hash, through the runner's shuffle.

Documents are keyed by the hash of their normalised text (whitespace runs collapsed, case folded)
and grouped; the survivor of each group is the document with the smallest id, so the result does
not depend on the order in which the runner delivers the group. The group is streamed (only the
current survivor is held), so a hot key costs no memory.
"""
from __future__ import annotations

import hashlib
import re
from typing import Callable

import apache_beam as beam

from common import events as ev
from common.record import Document

_WS = re.compile(r"\s+")
REASON = "exact_duplicate"


def normalized_content_hash(text: str) -> bytes:
    normalized = " ".join(text.split()).casefold()  # str.split() and re's \s agree on whitespace
    return hashlib.sha1(normalized.encode("utf-8", "surrogatepass")).digest()[:16]


def content_key(doc: Document) -> bytes:
    return normalized_content_hash(doc.text)


def _order(doc: Document):
    # The id decides; text and url only break a tie between equal ids (two inputs naming the same
    # document), so even then the survivor does not depend on the runner's order.
    return doc.id, doc.text, doc.url or ""


class _KeepSmallestId(beam.DoFn):
    def process(self, element):
        _, docs = element
        survivor = None
        for fields in docs:
            doc = Document._make(fields)
            if survivor is None:
                survivor = doc
                continue
            loser = doc
            if _order(doc) < _order(survivor):
                survivor, loser = doc, survivor
            beam.metrics.Metrics.counter("exact_dedup", "removed").inc()
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(loser.source, REASON, loser.nbytes))
        yield survivor


class ExactDedup(beam.PTransform):
    """docs → (unique docs, `exact_duplicate` drop events). `key_fn(doc) -> bytes` picks the content key."""

    def __init__(self, key_fn: Callable[[Document], bytes] = content_key, label=None):
        super().__init__(label)
        self.key_fn = key_fn

    def expand(self, docs):
        key_fn = self.key_fn
        out = (
            docs
            # Plain tuples cross the shuffle through Beam's fast coder; a Document would be pickled.
            | "KeyByContent" >> beam.Map(lambda d: (key_fn(d), tuple(d)))
            | "GroupByContent" >> beam.GroupByKey()
            | "KeepSmallestId" >> beam.ParDo(_KeepSmallestId()).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, out[ev.EVENTS]
