"""The Parquet sink: shard count from bytes, rows sorted by id, zstd, atomic names, same bytes twice."""
import gzip
import hashlib
import json
import math

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.testing.util import assert_that, equal_to

from common.record import ARROW_SCHEMA, Document, make_id
from pipeline.sinks import WriteCurated, shard_name
from tests.conftest import SHARED


def c4_docs():
    docs = []
    for name in ("olmo-c4-sample.01.json.gz", "olmo-c4-sample.02.json.gz"):
        with gzip.open(SHARED / "c4" / name, "rt") as f:
            for i, line in enumerate(f):
                d = json.loads(line)
                docs.append(Document(make_id("c4", name, str(i)), "c4", d["text"], d["url"], {"n": i}))
    return docs


def write(docs, out, target):
    with beam.Pipeline(runner="FnApiRunner") as p:
        events = p | beam.Create(docs) | WriteCurated(str(out), target)
        # One `written` event per shard, standing for its documents and their bytes.
        totals = (events | beam.combiners.ToList()
                  | beam.Map(lambda es: ({(e.source, e.kind) for e in es}, sum(e.count for e in es),
                                         sum(e.nbytes for e in es))))
        assert_that(totals, equal_to([({("c4", "out")}, len(docs), sum(d.nbytes for d in docs))]))


def test_shards_sorted_complete_and_deterministic(tmp_path):
    docs = c4_docs()
    total = sum(d.nbytes for d in docs)
    target = total // 3
    write(docs, tmp_path / "a", target)
    write(list(reversed(docs)), tmp_path / "b", target)
    count = math.ceil(total / target)
    names = sorted(p.name for p in (tmp_path / "a" / "c4").iterdir())
    assert names == [shard_name(i, count) for i in range(count)]  # no temporary files left behind
    ids = []
    for name in names:
        table = pq.read_table(tmp_path / "a" / "c4" / name)
        assert table.schema.equals(ARROW_SCHEMA)
        shard_ids = table.column("id").to_pylist()
        assert shard_ids == sorted(shard_ids)
        ids += shard_ids
        assert pq.read_metadata(tmp_path / "a" / "c4" / name).row_group(0).column(2).compression == "ZSTD"
        digest = lambda d: hashlib.sha256((d / "c4" / name).read_bytes()).hexdigest()
        assert digest(tmp_path / "a") == digest(tmp_path / "b")  # input order does not matter
    assert sorted(ids) == sorted(d.id for d in docs)


def test_utf8_column_is_the_string_column_and_refuses_bad_utf8():
    import pyarrow as pa
    import pytest

    from pipeline.sinks import utf8_column
    texts = [d.text for d in c4_docs()] + ["naïve café 🙂", ""]
    assert utf8_column([t.encode("utf-8") for t in texts]).equals(pa.array(texts, type=pa.string()))
    with pytest.raises(pa.ArrowInvalid):
        utf8_column([b"ok", b"\xff\xfe"])
