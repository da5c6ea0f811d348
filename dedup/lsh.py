"""Near-duplicate removal: MinHash-LSH over the runner's shuffle, deterministic survivors.

The recipe (`pipeline/recipes/llama/neardup.json`, passed as `config`):

1. Signatures: `dedup.minhash.MinHasher` over batches of documents; each band of `rows` values
   becomes one bucket key (scope, band, 64-bit band hash). Scope is the document's source for
   `"per_source"` (LLaMA dedups within sources) and one shared scope for `"cross_source"`.
2. Buckets: GroupByKey on the bucket key. Each bucket with two or more documents links every
   member to its smallest id (two streaming passes over the group: the minimum, then the edges).
3. Verification: a candidate edge (v, m) is kept only when the signatures' Jaccard estimate is at
   least `jaccard_threshold`. Banding alone removes about 5% of pairs at Jaccard 0.5 with 14 x 8
   (the S-curve is not a step); the estimate from 112 values has a standard deviation of about
   0.05 there, so such pairs are rejected. It costs two shuffles of (id, signature) records, each
   group read twice (the node's own signature first, then its edges): no list, no hot-key memory.
4. Components: `dedup.components.ConnectedComponents` (large-star / small-star rounds, unrolled,
   `cc_rounds` of them) turns the candidate graph into stars around each component's smallest id.
   The survivor of a component is that smallest id, whatever order the runner delivers things in.
5. Removals: every node with a smaller neighbour in the final graph is a duplicate.

Applying the removals, per shard. Documents and removal records are keyed by the same shard key,
derived from the document id (xxh64(id) mod `apply_shards`), flattened and grouped once. Each shard
group holds that shard's documents and only the removal ids of that shard; the DoFn reads the group
twice: first it collects the shard's removal ids (about removals / apply_shards of them), then it
streams the documents through and drops the listed ones. Why not a CoGroupByKey on the id: it
builds a Python list per tag and key (its `collect_values`), and a per-id join makes one shuffle key
per document. Why not a side input of all removals: it would put corpus-wide state in every
worker's memory. The documents cross the shuffle once, unchanged; the removal set never meets
documents of other shards.

Outputs `(docs, events)`: the kept documents, and `drop(source, "near_duplicate", nbytes)` for every
removed one. Counters (namespace = the transform's label): `docs_signed`, `docs_without_words`,
`bucket_size` (distribution), `candidate_edges`, `edges_verified`, `edges_rejected`,
`cc_roundNN_changed`, `cc_last_round_changed`, `removed`, `kept`.
"""
from __future__ import annotations

import struct
from typing import Iterable, List

import apache_beam as beam
import numpy as np
import xxhash

from common import events as ev
from common.record import Document
from dedup.components import ConnectedComponents
from dedup.minhash import MinHasher, band_hashes, jaccard

REASON = "near_duplicate"

DEFAULTS = {
    "enabled": True,
    "scope": "per_source",
    "shingle_size": 5,
    "num_perm": 112,
    "bands": 14,
    "rows": 8,
    "seed": 42,
    "jaccard_threshold": 0.8,
    "cc_rounds": 6,
    "apply_shards": 1024,
    "batch_docs": 256,
    "batch_bytes": 4 << 20,
}
SCOPES = ("per_source", "cross_source")


def resolve_config(config: dict) -> dict:
    """`config` over DEFAULTS (keys starting with `_` are comments), checked."""
    cfg = dict(DEFAULTS)
    cfg.update({k: v for k, v in (config or {}).items() if not k.startswith("_")})
    if cfg["scope"] not in SCOPES:
        raise ValueError(f"neardup.scope must be one of {SCOPES}, got {cfg['scope']!r}")
    if not 0.0 <= float(cfg["jaccard_threshold"]) <= 1.0:
        raise ValueError("neardup.jaccard_threshold must be within [0, 1]")
    if cfg["bands"] * cfg["rows"] > cfg["num_perm"]:
        raise ValueError("neardup: bands * rows must not exceed num_perm")
    for key in ("shingle_size", "num_perm", "bands", "rows", "cc_rounds", "apply_shards", "batch_docs"):
        if int(cfg[key]) < 1:
            raise ValueError(f"neardup.{key} must be >= 1")
    return cfg


def bucket_scope(doc: Document, scope: str) -> str:
    return doc.source if scope == "per_source" else ""


def bucket_key(scope_name: str, band: int, band_hash: int) -> bytes:
    """The shuffle key of one band bucket: scope, band index, band hash (deterministic bytes)."""
    return scope_name.encode("utf-8") + b"\x00" + struct.pack(">HQ", band, band_hash)


def shard_of(doc_id: str, shards: int) -> int:
    return xxhash.xxh64_intdigest(doc_id.encode("utf-8", "surrogatepass")) % shards


def byte_batches(docs: List[Document], max_bytes: int) -> Iterable[List[Document]]:
    """Consecutive sub-lists of at most `max_bytes` characters of text (a longer document alone)."""
    batch, size = [], 0
    for doc in docs:
        if batch and size + len(doc.text) > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(doc)
        size += len(doc.text)
    if batch:
        yield batch


SIGNATURES = "signatures"


class _BucketKeysFn(beam.DoFn):
    """A batch of documents → (bucket key, doc id) for each band of each document with words,
    and (doc id, signature bytes) on the SIGNATURES output."""

    def __init__(self, cfg: dict, namespace: str):
        self.cfg = cfg
        self.namespace = namespace

    def setup(self):
        c = self.cfg
        self.hasher = MinHasher(c["num_perm"], c["seed"], c["shingle_size"])
        self.signed = beam.metrics.Metrics.counter(self.namespace, "docs_signed")
        self.no_words = beam.metrics.Metrics.counter(self.namespace, "docs_without_words")

    def process(self, batch: List[Document]):
        c = self.cfg
        for docs in byte_batches(batch, c["batch_bytes"]):
            sigs, has = self.hasher.signatures([d.text for d in docs])
            bands = band_hashes(sigs, c["bands"], c["rows"])
            for doc, ok, sig, row in zip(docs, has, sigs, bands):
                if not ok:
                    self.no_words.inc()  # nothing to compare: never a candidate, always kept
                    continue
                self.signed.inc()
                yield beam.pvalue.TaggedOutput(SIGNATURES, (doc.id, sig.tobytes()))
                scope = bucket_scope(doc, c["scope"])
                for band, h in enumerate(row.tolist()):
                    yield bucket_key(scope, band, h), doc.id


class _BucketStarFn(beam.DoFn):
    """(bucket, ids) → (id, smallest id) for every other member; reads the group twice, lists nothing."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def setup(self):
        self.sizes = beam.metrics.Metrics.distribution(self.namespace, "bucket_size")
        self.edges = beam.metrics.Metrics.counter(self.namespace, "candidate_edges")

    def process(self, element):
        _, ids = element
        smallest, size = None, 0
        for doc_id in ids:
            size += 1
            if smallest is None or doc_id < smallest:
                smallest = doc_id
        if size < 2:
            return
        self.sizes.update(size)
        for doc_id in ids:
            if doc_id != smallest:
                self.edges.inc()
                yield doc_id, smallest


_SIG, _EDGE = 0, 1


def _own_signature(tagged) -> "np.ndarray | None":
    for tag, value in tagged:
        if tag == _SIG:
            return np.frombuffer(value, dtype=np.uint32)
    return None


class _AttachLargerSignatureFn(beam.DoFn):
    """(v, [(SIG, sig_v) | (EDGE, m)]) → (m, (EDGE, (v, sig_v))) for every edge of v."""

    def process(self, element):
        v, tagged = element
        sig = _own_signature(tagged)
        if sig is None:
            return
        for tag, m in tagged:
            if tag == _EDGE:
                yield m, (_EDGE, (v, sig.tobytes()))


class _CompareWithSmallerFn(beam.DoFn):
    """(m, [(SIG, sig_m) | (EDGE, (v, sig_v))]) → (v, m) when the Jaccard estimate passes."""

    def __init__(self, threshold: float, namespace: str):
        self.threshold = threshold
        self.namespace = namespace

    def setup(self):
        self.verified = beam.metrics.Metrics.counter(self.namespace, "edges_verified")
        self.rejected = beam.metrics.Metrics.counter(self.namespace, "edges_rejected")

    def process(self, element):
        m, tagged = element
        sig_m = _own_signature(tagged)
        if sig_m is None:
            return
        for tag, value in tagged:
            if tag != _EDGE:
                continue
            v, sig_v = value
            if jaccard(sig_m, np.frombuffer(sig_v, dtype=np.uint32)) >= self.threshold:
                self.verified.inc()
                yield v, m
            else:
                self.rejected.inc()


class VerifyEdges(beam.PTransform):
    """(edges (v, m), signatures (id, bytes)) → the edges whose Jaccard estimate >= threshold."""

    def __init__(self, threshold: float, namespace: str, label=None):
        super().__init__(label)
        self.threshold = threshold
        self.namespace = namespace

    def expand(self, pcolls):
        edges, signatures = pcolls
        tagged_sigs = signatures | "TagSignatures" >> beam.MapTuple(lambda i, sig: (i, (_SIG, sig)))
        with_larger = (
            (tagged_sigs, edges | "ByLarger" >> beam.MapTuple(lambda v, m: (v, (_EDGE, m))))
            | "FlattenLarger" >> beam.Flatten()
            | "GroupLarger" >> beam.GroupByKey()
            | "AttachLarger" >> beam.ParDo(_AttachLargerSignatureFn())
        )
        return (
            (tagged_sigs, with_larger)
            | "FlattenSmaller" >> beam.Flatten()
            | "GroupSmaller" >> beam.GroupByKey()
            | "Compare" >> beam.ParDo(_CompareWithSmallerFn(self.threshold, self.namespace))
        )


_DOC, _REMOVED = 0, 1


class _ApplyShardFn(beam.DoFn):
    """(shard, [(tag, doc | id)]) → kept docs, plus drop events for the shard's removed docs."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def setup(self):
        self.removed = beam.metrics.Metrics.counter(self.namespace, "removed")
        self.kept = beam.metrics.Metrics.counter(self.namespace, "kept")

    def process(self, element):
        _, tagged = element
        removed_ids = {value for tag, value in tagged if tag == _REMOVED}
        for tag, doc in tagged:
            if tag != _DOC:
                continue
            if doc.id in removed_ids:
                self.removed.inc()
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, REASON, doc.nbytes))
            else:
                self.kept.inc()
                yield doc


class ApplyRemovals(beam.PTransform):
    """(docs, removed ids) → (kept docs, drop events), grouped per shard of the id space."""

    def __init__(self, shards: int, namespace: str, label=None):
        super().__init__(label)
        self.shards = shards
        self.namespace = namespace

    def expand(self, pcolls):
        docs, removed_ids = pcolls
        shards = self.shards
        keyed_docs = docs | "KeyDocsByShard" >> beam.Map(lambda d: (shard_of(d.id, shards), (_DOC, d)))
        keyed_ids = removed_ids | "KeyRemovalsByShard" >> beam.Map(lambda i: (shard_of(i, shards), (_REMOVED, i)))
        out = (
            (keyed_docs, keyed_ids)
            | "Together" >> beam.Flatten()
            | "GroupByShard" >> beam.GroupByKey()
            | "DropRemoved" >> beam.ParDo(_ApplyShardFn(self.namespace)).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, out[ev.EVENTS]


class NearDedup(beam.PTransform):
    """PCollection[Document] → (kept docs, `near_duplicate` drop events). See the module docstring."""

    def __init__(self, config: dict, label: str = "NearDedup"):
        super().__init__(label)
        self.cfg = resolve_config(config)
        self.namespace = label

    def expand(self, docs):
        cfg, ns = self.cfg, self.namespace
        if not cfg["enabled"]:
            return docs, docs.pipeline | "NoEvents" >> beam.Create([])
        keys = (
            docs
            | "Batch" >> beam.BatchElements(
                min_batch_size=max(1, cfg["batch_docs"] // 4), max_batch_size=cfg["batch_docs"])
            | "Sign" >> beam.ParDo(_BucketKeysFn(cfg, ns)).with_outputs(SIGNATURES, main="buckets")
        )
        candidates = (
            keys.buckets
            | "GroupByBucket" >> beam.GroupByKey()
            | "LinkToSmallest" >> beam.ParDo(_BucketStarFn(ns))
            | "DistinctEdges" >> beam.Distinct()
        )
        edges = (candidates, keys[SIGNATURES]) | "Verify" >> VerifyEdges(cfg["jaccard_threshold"], ns)
        removed_ids = (
            edges
            | "Components" >> ConnectedComponents(cfg["cc_rounds"], ns)
            | "LargerEnd" >> beam.Map(lambda edge: edge[0])
        )
        return (docs, removed_ids) | "ApplyPerShard" >> ApplyRemovals(cfg["apply_shards"], ns)
