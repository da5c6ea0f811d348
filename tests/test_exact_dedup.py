"""Exact document dedup: normalised content hash, survivor = smallest id whatever the order."""
import gzip
import json

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from common.record import Document
from dedup.exact import ExactDedup, normalized_content_hash
from tests.conftest import SHARED


def texts():
    with gzip.open(SHARED / "c4" / "olmo-c4-sample.02.json.gz", "rt") as f:
        return [json.loads(line)["text"] for line in f]


def test_normalisation_ignores_case_and_whitespace_runs():
    t = texts()[0]
    assert normalized_content_hash(t) == normalized_content_hash("  " + t.upper().replace(" ", "  \t") + "\n")
    assert normalized_content_hash(t) != normalized_content_hash(t + " more")


def run(docs):
    with beam.Pipeline(runner="FnApiRunner") as p:
        kept, events = p | beam.Create(docs) | ExactDedup()
        assert_that(kept | beam.Map(lambda d: d.id), equal_to(["cc/a", "cc/c"]), label="kept")
        assert_that(events | beam.Map(lambda e: e.reason), equal_to(["exact_duplicate"] * 3), label="drops")


def test_smallest_id_survives_in_any_order():
    a, b = texts()[:2]
    docs = [Document("cc/d", "cc", a.upper(), None, {}), Document("cc/a", "cc", a, None, {}),
            Document("cc/b", "cc", "  " + a, None, {}), Document("cc/c", "cc", b, None, {}),
            Document("cc/e", "cc", b, None, {})]
    run(docs)
    run(list(reversed(docs)))
