"""The Parquet sink: curated/<source>/part-NNNNN-of-MMMMM.parquet, zstd, deterministic.

The shard count comes from the bytes the source writes (`target_shard_bytes` each, at least one),
computed in the pipeline; a document's shard is a hash of its id; rows are sorted by id within
a shard. Each shard is written under a temporary name and renamed when complete, so a crashed run
leaves no half shard behind.
"""
from __future__ import annotations

import hashlib
import io
import math
import posixpath

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from common import events as ev
from common.record import ARROW_SCHEMA, to_row


def shard_of(doc_id: str, num_shards: int) -> int:
    return int.from_bytes(hashlib.sha1(doc_id.encode("utf-8")).digest()[:8], "little") % num_shards


def shard_name(index: int, count: int) -> str:
    return f"part-{index:05d}-of-{count:05d}.parquet"


def write_parquet(path: str, docs) -> None:
    table = pa.Table.from_pylist([to_row(d) for d in docs], schema=ARROW_SCHEMA)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=10_000, write_statistics=True)
    tmp = posixpath.join(posixpath.dirname(path), "." + posixpath.basename(path) + ".tmp")
    with FileSystems.create(tmp) as f:
        f.write(buf.getvalue())
    if FileSystems.exists(path):
        FileSystems.delete([path])
    FileSystems.rename([tmp], [path])


class _WriteShard(beam.DoFn):
    def __init__(self, directory: str):
        self.directory = directory

    def process(self, element, num_shards):
        (source, index), docs = element
        docs = sorted(docs, key=lambda d: d.id)
        write_parquet(posixpath.join(self.directory, source, shard_name(index, num_shards[source])), docs)
        for d in docs:
            yield ev.written(source, d.nbytes)


class WriteCurated(beam.PTransform):
    """docs (any sources) → parquet shards under `directory/<source>/`; returns `written` events."""

    def __init__(self, directory: str, target_shard_bytes: int, label=None):
        super().__init__(label)
        self.directory = directory
        self.target = int(target_shard_bytes)

    def expand(self, docs):
        target = self.target
        counts = (
            docs
            | "SourceBytes" >> beam.Map(lambda d: (d.source, d.nbytes))
            | "SumBytes" >> beam.CombinePerKey(sum)
            | "ShardCount" >> beam.Map(lambda kv: (kv[0], max(1, math.ceil(kv[1] / target))))
        )
        counts_side = beam.pvalue.AsDict(counts)
        return (
            docs
            | "KeyByShard" >> beam.Map(lambda d, n: ((d.source, shard_of(d.id, n[d.source])), d), counts_side)
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteShard(self.directory), counts_side)
        )
