"""C4's three-sentence span dedup on real C4 text, through Beam's shuffle."""
import gzip
import json

import apache_beam as beam
import numpy as np
from apache_beam.testing.util import assert_that, equal_to

from common import events as ev
from common.record import Document
from dedup.repeats import removed_rows
from dedup.span_dedup import REASON_EMPTY, SentenceSpans, SpanDedup, sentences
from tests.conftest import SHARED


def c4_texts():
    with gzip.open(SHARED / "c4" / "olmo-c4-sample.03.json.gz", "rt") as f:
        return [json.loads(line)["text"] for line in f]


def test_removed_rows_policies():
    h = np.array([7, 5, 7, 9, 7], dtype=np.uint64)
    k1 = np.array([3, 1, 1, 2, 2], dtype=np.uint64)
    k2 = np.zeros(5, dtype=np.uint64)
    pos = np.array([0, 0, 4, 0, 1], dtype=np.uint32)
    assert sorted(removed_rows(h, k1, k2, pos, keep_first=False).tolist()) == [0, 2, 4]
    # keep_first: the occurrence with the smallest (doc key, position) survives — row 2 (k1=1).
    assert sorted(removed_rows(h, k1, k2, pos, keep_first=True).tolist()) == [0, 4]


def test_sentence_split_on_real_text():
    text = c4_texts()[0]
    lines = text.split("\n")
    parts = [lines[li][s:e] for li, s, e in sentences(text)]
    assert "".join(parts).replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert all(p == p.strip() for p in parts)


def doc(i, text):
    return Document(f"c4/{i:03d}", "c4", text, None, {})


def test_repeated_span_kept_once_and_copies_emptied():
    a, b = c4_texts()[:2]
    sa = [a.split("\n")[li][s:e] for li, s, e in sentences(a)]
    borrowed = " ".join(sa[1:4])  # three consecutive sentences of a
    spans = SentenceSpans(3)
    expected_b = spans.rebuild(b + "\n" + borrowed, spans.units(b + "\n" + borrowed)[2],
                               {len(sentences(b + "\n" + borrowed)) - 3})
    docs = [doc(1, a), doc(2, b + "\n" + borrowed), doc(3, a)]
    for order in (docs, list(reversed(docs))):
        with beam.Pipeline(runner="FnApiRunner") as p:
            out, events = p | beam.Create(order) | SpanDedup(3, hash_shards=3, doc_shards=2)
            # Which copy of `a` survives depends only on the ids (their SHA-1), never on the order.
            assert_that(out | "Texts" >> beam.Map(lambda d: d.text),
                        equal_to([a, expected_b]), label="texts")
            drops = events | "Drops" >> beam.Filter(lambda e: e.kind == ev.DROP)  # not the `trimmed` tallies
            assert_that(drops | beam.Map(lambda e: e.reason), equal_to([REASON_EMPTY]), label="drops")
    assert borrowed not in expected_b and expected_b.startswith(b.split("\n")[0])
