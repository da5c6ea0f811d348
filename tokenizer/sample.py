"""The tokenizer's training text: a deterministic sample of the curated shards in mixture proportions.

Each source may contribute up to share × max_bytes of text. Its keep rate is that budget over the
source's size, which is read from the Parquet footers (uncompressed size of the `text` column: no
data read). A document is kept when a seeded 64-bit hash of its id falls under the rate, so the
choice depends on the document alone, never on order or on which worker reads it. Kept documents
are streamed line by line (SentencePiece's trainer takes one sentence per line, as LLaMA's did:
no piece then spans a newline); nothing corpus-sized is held here.
"""
from __future__ import annotations

from typing import Dict, Iterator, List, Mapping

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from tokenizer import shards

READ_BATCH_ROWS = 1024


def text_bytes_estimate(path: str) -> int:
    """Uncompressed size of the `text` column of one Parquet file, from its footer."""
    with shards.open_read(path) as f:
        meta = pq.ParquetFile(f).metadata
    col = meta.schema.names.index("text")
    return sum(meta.row_group(i).column(col).total_uncompressed_size for i in range(meta.num_row_groups))


def keep_rates(source_bytes: Mapping[str, int], shares: Mapping[str, float], max_bytes: int) -> Dict[str, float]:
    """Per source, the fraction of documents to keep: min(1, share × max_bytes / bytes)."""
    rates = {}
    for source, nbytes in source_bytes.items():
        share = float(shares.get(source, 0.0))
        rates[source] = 1.0 if nbytes <= 0 else min(1.0, share * max_bytes / nbytes)
    return rates


def keep(doc_id: str, rate: float, seed: int) -> bool:
    if rate >= 1.0:
        return True
    return xxhash.xxh64_intdigest(doc_id.encode("utf-8"), seed=seed) < rate * 2.0**64


def iter_batches(path: str, columns=("id", "text"), batch_rows: int = READ_BATCH_ROWS) -> Iterator["pa.RecordBatch"]:
    """Record batches of one curated Parquet file, in file order."""
    with shards.open_read(path) as f:
        yield from pq.ParquetFile(f).iter_batches(batch_size=batch_rows, columns=list(columns))


def iter_documents(path: str, columns=("id", "text")) -> Iterator[dict]:
    """Rows of one curated Parquet file, in file order."""
    for batch in iter_batches(path, columns):
        yield from batch.to_pylist()


class TrainingSample:
    """Iterable of training lines from OUT/curated, plus what it drew (for the log and tests)."""

    def __init__(self, out_dir: str, shares: Mapping[str, float], max_bytes: int, seed: int):
        self.seed = seed
        self.files: Dict[str, List[str]] = {
            source: [ref.curated for ref in shards.shard_refs(out_dir, source)]
            for source in shards.curated_sources(out_dir)
        }
        self.source_bytes = {s: sum(text_bytes_estimate(p) for p in paths) for s, paths in self.files.items()}
        self.rates = keep_rates(self.source_bytes, shares, max_bytes)
        self.drawn_docs: Dict[str, int] = {}
        self.drawn_bytes: Dict[str, int] = {}

    def __iter__(self) -> Iterator[str]:
        for source in sorted(self.files):
            rate = self.rates[source]
            self.drawn_docs[source] = self.drawn_bytes[source] = 0
            for path in self.files[source]:
                for row in iter_documents(path):
                    if not keep(row["id"], rate, self.seed):
                        continue
                    self.drawn_docs[source] += 1
                    self.drawn_bytes[source] += len(row["text"].encode("utf-8"))
                    for line in row["text"].split("\n"):
                        if line:
                            yield line
