"""Beam: curated Parquet shards → token shards, one token shard per curated file.

A curated file is read a record batch at a time and encoded `batch_size` documents per
SentencePiece call; the model loads once per worker process (`Shared`). The work unit is a whole
file, so each shard's document order is its file's order whatever the runner does, and the shard
count equals the curated shard count (the curation sink sets the parallelism).
"""
from __future__ import annotations

import logging
from typing import Dict

import apache_beam as beam
import pyarrow.compute as pc
from apache_beam.utils import shared

from common import events as ev
from common import progress
from tokenizer import sample, shards
from tokenizer.encode import DocumentEncoder

NAMESPACE = "tokenize"


class _SharedEncoder:
    """Weak-referenceable holder, as `Shared` requires."""

    def __init__(self, encoder: DocumentEncoder):
        self.encoder = encoder


class TokenizeShardFn(beam.DoFn):
    """ShardRef → one shard record {source, bin, idx, tokens, documents, sha256_bin, sha256_idx};
    an unreadable curated file → a `bad_input:curated_parquet` event instead."""

    def __init__(self, model_path: str, encode_settings: Dict, shared_handle: shared.Shared):
        self.model_path = model_path
        self.batch_size = int(encode_settings["batch_size"])
        self.max_chunk_chars = int(encode_settings["max_chunk_chars"])
        self.num_threads = int(encode_settings.get("num_threads", 1))
        self.shared_handle = shared_handle
        self.encoder = None

    def setup(self):
        def load():
            return _SharedEncoder(DocumentEncoder(shards.read_bytes(self.model_path), self.max_chunk_chars, self.num_threads))
        self.encoder = self.shared_handle.acquire(load, tag=self.model_path).encoder

    def process(self, ref: shards.ShardRef):
        metrics = beam.metrics.Metrics
        writer = shards.ShardWriter(ref.bin, ref.idx)
        nbytes = 0
        try:
            for batch in sample.iter_batches(ref.curated, columns=("text",), batch_rows=self.batch_size):
                texts = batch.column(0)
                writer.add_many(self.encoder.encode_batch(texts.to_pylist()))
                batch_bytes = pc.sum(pc.binary_length(texts)).as_py() or 0
                nbytes += batch_bytes
                progress.note_read(ref.source, len(texts), batch_bytes)  # what the run shows while it tokenizes
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            writer.abort()
            logging.error("tokenize: unreadable curated file %s: %s", ref.curated, err)
            metrics.counter(NAMESPACE, f"{ref.source}:bad_input:curated_parquet").inc()
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.bad_input(ref.source, "curated_parquet", ref.curated, str(err)))
            return
        info = writer.finish()
        metrics.counter(NAMESPACE, f"{ref.source}:documents").inc(info["documents"])
        metrics.counter(NAMESPACE, f"{ref.source}:tokens").inc(info["tokens"])
        metrics.counter(NAMESPACE, f"{ref.source}:text_bytes").inc(nbytes)
        yield {"source": ref.source, "bin": ref.rel_bin, "idx": ref.rel_idx, **info}


class TokenizeShards(beam.PTransform):
    """PBegin → (shard records, bad-input events) for the given shard refs."""

    def __init__(self, refs, model_path: str, encode_settings: Dict):
        super().__init__()
        self.refs = list(refs)
        self.model_path = model_path
        self.encode_settings = dict(encode_settings)

    def expand(self, pbegin):
        out = (
            pbegin
            | "CuratedShards" >> beam.Create(self.refs)
            | "Spread" >> beam.Reshuffle()
            | "Tokenize" >> beam.ParDo(TokenizeShardFn(self.model_path, self.encode_settings, shared.Shared()))
            .with_outputs(ev.EVENTS, main="shards")
        )
        return out.shards, out[ev.EVENTS]
