"""Near-duplicate removal: MinHash-LSH over the runner's shuffle, deterministic survivors.

The recipe (`pipeline/recipes/llama/neardup.json`, passed as `config`):

1. Signatures: `dedup.minhash.MinHasher` over batches of documents (at most `batch_docs` documents
   and `batch_bytes` characters, a longer document alone); each band of `rows` values becomes one
   bucket (scope, band, 64-bit band hash). Scope is the document's source for `"per_source"` (each
   source against itself) and one shared scope for `"cross_source"`. LLaMA's recipe has no
   near-dedup (§2.1): the stage is off in `llama` and on in `llama-plus`.
2. Buckets: in a bucket with two or more documents, every member v is paired with each smaller
   member m among the bucket's `compare_smallest` smallest ids (candidate edges): every pair of a
   bucket of up to `compare_smallest` + 1 members. Pairing only with the smallest id would lose
   the pair (v, w) of a bucket {m, v, w} where m is a banding accident and v, w are copies.
3. Verification, by `duplicates`:
   - `jaccard` (llama-plus): a candidate edge (v, m) is kept only when the true Jaccard of the two
     documents' shingle sets (`dedup.minhash.set_jaccard`: the distinct 32-bit shingle hashes,
     which travel in place of the signatures) is at least `jaccard_threshold`. Banding alone
     removes about 5% of pairs at Jaccard 0.5 with 14 x 8 (the S-curve is not a step); the
     signature's estimate of Jaccard has a standard deviation of about 0.04 at 0.8 with 112
     values, so it would decide pairs near the threshold by chance. Each distinct edge is checked
     once.
   - `band_collision`: every distinct candidate edge is a duplicate, as datatrove's MinHash
     stages (FineWeb's recipe) count one: the S-curve decides (midpoint (1/bands)^(1/rows), 0.72 at
     14 x 8), so pairs below `jaccard_threshold` go too (bench/bench_neardup.py measures both).
4. Components: `dedup.components.ConnectedComponents` (large-star / small-star rounds, unrolled,
   `cc_rounds` of them) turns the graph into stars around each component's smallest node. A node
   is the document's `survivor_key`: the longest text, then the earliest timestamp, then the id;
   so the survivor of a component is its longest document, whatever order the runner delivers
   things in (datatrove keeps the first it read; the smallest id kept an edited copy as often as
   the original).
5. Removals: every node with a smaller neighbour in the final graph is a duplicate.

How it crosses the shuffle. Beam's Python SDK costs several microseconds per element and step, and
anything but plain tuples/lists/dicts/str/bytes/numbers is pickled by the fallback coder (the
DirectRunner encodes a grouped element about four times), so the stage sends few, plain elements:

- `_SignFn` signs the documents of its bundle batch by batch and, at the bundle's end (or every
  `_MAX_PENDING_DOCS` signed documents), emits column batches: bucket rows (band <u4, band hash
  <u8 as raw bytes, ids as a list) keyed by (scope, band hash mod `bucket_shards`), and shingle
  sets (ids, set sizes <i8 and the sets' <u4 values, as raw bytes) keyed by the id shard
  (xxh64(id) mod `apply_shards`). Not one
  record per document and band (14 per document).
- `_FindBucketsFn`, per bucket shard: sorts the rows by (band, hash) with numpy; only buckets with
  two or more rows touch Python objects. Edges go out batched per id shard of v.
- Verification joins edges with shingle sets by id shard, in two groupings: at v's shard (every
  edge of v meets there, so distinct edges come for free, and v's set is attached), then at m's
  shard (m's set; the Jaccard batch by batch). A group holds its shard's set batches, and reads its edges twice, streaming: all edges of a big cluster's smallest id m meet
  in m's group, so they are never concatenated.
- Documents cross once, as plain tuples (`tuple(doc)`, rebuilt with `Document._make`), keyed by
  their id shard as soon as they enter `_SignFn`.
The shard counts are recipe values: raise them with the corpus so one group's arrays stay small.
Counters are incremented once per batch or group, not per element.

Hot keys (a bucket of 10^5 near-copies of one page). Grouped plainly, its rows would all meet in
one bucket-shard group, its 10^5 × `compare_smallest` edges at its smallest ids' verification
groups, and its component at one star centre. Instead, with H = `hot_key_size`:

- `_CapBucketsFn` cuts every bucket of each bundle's row batch to its H + 1 smallest distinct ids,
  their weights keeping its row count (a combiner: `cap_buckets` of capped parts = of the whole),
  so a bucket-shard group holds at most H + 1 rows of a bucket per bundle.
- A bucket with more than H distinct ids is hot: `_FindBucketsFn` sends (scope, band, hash, rows,
  its `compare_smallest` smallest ids) to a side input (at most rows / H entries) instead of
  pairing, and `_HotPairsFn` pairs each raw row of a hot bucket with those anchors where it is
  (the same pairs: an anchor is among the bucket's `compare_smallest` smallest either way).
- Verification at an anchor m of a hot bucket is keyed (id shard of m, xxh64(v) mod F), F = ceil(
  rows of the hot buckets m anchors / H); m's shingle set goes to each of its F groups (`_FanOutSetsFn`).
- The star phases decide a node with more than H edges edge by edge (dedup/components.py).

The pairs, the verified edges and the components are exactly those of the plain grouping
(tests/test_dataflow_skew_neardup.py); only where they are computed changes.

Applying the removals, per shard. Documents and removal records are keyed by the same id shard,
flattened and grouped once. Each shard group holds that shard's documents and only the removal ids
of that shard; the DoFn reads the group twice: first it collects the shard's removal ids (about
removals / apply_shards of them), then it streams the documents through and drops the listed ones.
Why not a CoGroupByKey on the id: it builds a Python list per tag and key (its `collect_values`),
and a per-id join makes one shuffle key per document. Why not a side input of all removals: it
would put corpus-wide state in every worker's memory. The documents cross the shuffle once,
unchanged; the removal set never meets documents of other shards.

Outputs `(docs, events)`: the kept documents, and `drop(source, "near_duplicate", nbytes)` for every
removed one. Counters (namespace = the transform's label): `docs_signed`, `docs_without_words`,
`bucket_size` (distribution; a hot bucket counts as the ids that reached its group), `hot_buckets`,
`candidate_edges`, `edges_verified` and `edges_rejected` (the true-Jaccard check; `band_collision`, which
checks nothing: `edges_distinct`), `cc_roundNN_changed`, `cc_last_round_changed`,
`cc_hot_nodes` (hot nodes summed over the phases), `removed`, `kept`.
"""
from __future__ import annotations

from typing import Iterable, Iterator, List

import apache_beam as beam
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue
import numpy as np
import xxhash

from common import events as ev
from common.record import Document
from dedup.components import ConnectedComponents
from dedup.minhash import MinHasher, band_hashes, set_jaccard

REASON = "near_duplicate"

DEFAULTS = {
    "enabled": True,
    "scope": "per_source",
    "duplicates": "jaccard",
    "shingle_size": 5,
    "num_perm": 112,
    "bands": 14,
    "rows": 8,
    "seed": 42,
    "jaccard_threshold": 0.8,
    "compare_smallest": 32,
    "cc_rounds": 6,
    "hot_key_size": 1024,
    "apply_shards": 1024,
    "bucket_shards": 256,
    "batch_docs": 256,
    "batch_bytes": 4 << 20,
}
SCOPES = ("per_source", "cross_source")
DUPLICATES = ("jaccard", "band_collision")


def resolve_config(config: dict) -> dict:
    """`config` over DEFAULTS (keys starting with `_` are comments), checked."""
    cfg = dict(DEFAULTS)
    cfg.update({k: v for k, v in (config or {}).items() if not k.startswith("_")})
    if cfg["scope"] not in SCOPES:
        raise ValueError(f"neardup.scope must be one of {SCOPES}, got {cfg['scope']!r}")
    if cfg["duplicates"] not in DUPLICATES:
        raise ValueError(f"neardup.duplicates must be one of {DUPLICATES}, got {cfg['duplicates']!r}")
    if not 0.0 <= float(cfg["jaccard_threshold"]) <= 1.0:
        raise ValueError("neardup.jaccard_threshold must be within [0, 1]")
    if cfg["bands"] * cfg["rows"] > cfg["num_perm"]:
        raise ValueError("neardup: bands * rows must not exceed num_perm")
    if int(cfg["hot_key_size"]) < int(cfg["compare_smallest"]):
        raise ValueError("neardup.hot_key_size must be >= compare_smallest (a hot bucket's anchors are its "
                         "compare_smallest smallest ids, kept among its hot_key_size + 1 smallest)")
    for key in ("shingle_size", "num_perm", "bands", "rows", "compare_smallest", "cc_rounds", "hot_key_size",
                "apply_shards", "bucket_shards", "batch_docs", "batch_bytes"):
        # Cast, not only checked: a 5.0 from JSON would make float shard keys that never meet int ones.
        cfg[key] = int(cfg[key])
        if cfg[key] < 1:
            raise ValueError(f"neardup.{key} must be >= 1")
    return cfg


def bucket_scope(doc: Document, scope: str) -> str:
    return doc.source if scope == "per_source" else ""


_MAX_CHARS = 10 ** 13


def survivor_key(doc: Document) -> str:
    """The document's node in the graph: components keep their smallest node, so this orders the
    documents of a component by the survivor rule. Longest text first (the fuller copy: an edited or
    cut near copy is usually shorter), then the earliest timestamp (`timestamp`, or `warc_date`;
    ISO-8601 text compares in time order; none sorts last), then the id. It depends on the document
    alone, so the survivor never depends on the order documents arrive in; the id makes it unique."""
    when = doc.meta.get("timestamp") or doc.meta.get("warc_date") or "~"
    return f"{_MAX_CHARS - min(len(doc.text), _MAX_CHARS - 1):014d}\x00{when}\x00{doc.id}"


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


SETS, BUCKETS, HOT = "shingle_sets", "buckets", "hot_buckets"
_SET, _EDGE = 0, 1
_DOC, _REMOVED = 0, 1

# Flush a bundle's pending bucket rows and shingle sets at this many signed documents (about 40 MB
# of bucket rows at 14 bands, plus the sets: ~4 bytes per word of text): bounds a long bundle's memory, leaves short ones whole.
_MAX_PENDING_DOCS = 1 << 16


_GLOBAL_WINDOWS = (GlobalWindow(),)
_GLOBAL_MAX_TIMESTAMP = GlobalWindow().max_timestamp()


def _windowed(item) -> WindowedValue:
    """An output of `finish_bundle`, in the global window (the stage's input is in it)."""
    return WindowedValue(item, _GLOBAL_MAX_TIMESTAMP, _GLOBAL_WINDOWS)


class _Pending:
    """A bundle's signed documents (id, scope, band hashes, shingle set), drained as column batches."""

    def __init__(self):
        self.ids: List[str] = []
        self.scopes: List[str] = []
        self.id_shards: List[int] = []
        self.bands: List[np.ndarray] = []
        self.sets: List[bytes] = []  # per document, its sorted distinct shingle hashes as <u4 bytes

    def __len__(self):
        return len(self.ids)

    def drain(self, bucket_shards: int) -> Iterator[tuple]:
        """(BUCKETS, ((scope, bucket shard), (bands <u4, hashes <u8, ids))) and
        (SETS, (id shard, (_SET, ids, set sizes <i8, the sets' <u4 values))) column batches."""
        if not self.ids:
            return
        ids = self.ids
        bands = np.concatenate(self.bands)  # uint64 [n, bands]
        sets = self.sets
        n, nb = bands.shape
        scopes = np.asarray(self.scopes, dtype=object)
        for scope in sorted(set(self.scopes)):
            docs = np.flatnonzero(scopes == scope)
            hashes = bands[docs].ravel()  # document-major: row r is doc docs[r // nb], band r % nb
            band = np.tile(np.arange(nb, dtype="<u4"), len(docs))
            doc = np.repeat(docs, nb)
            shard = hashes % np.uint64(bucket_shards)
            order = np.argsort(shard, kind="stable")
            bounds = np.searchsorted(shard[order], np.arange(bucket_shards + 1, dtype=np.uint64))
            for s, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
                if hi > lo:
                    sel = order[lo:hi]
                    yield BUCKETS, ((scope, s), (band[sel].tobytes(), hashes[sel].astype("<u8").tobytes(),
                                                 [ids[i] for i in doc[sel].tolist()]))
        id_shards = np.asarray(self.id_shards, dtype=np.int64)
        order = np.argsort(id_shards, kind="stable")
        sorted_shards = id_shards[order]
        starts = np.flatnonzero(np.diff(sorted_shards, prepend=-1))
        for lo, hi in zip(starts.tolist(), np.append(starts[1:], n).tolist()):
            sel = order[lo:hi]
            rows = sel.tolist()
            sizes = np.array([len(sets[i]) // 4 for i in rows], dtype="<i8")
            yield SETS, (int(sorted_shards[lo]), (_SET, [ids[i] for i in rows], sizes.tobytes(),
                                                  b"".join([sets[i] for i in rows])))
        self.__init__()


class _SignFn(beam.DoFn):
    """doc → (id shard, (_DOC, doc as a plain tuple)) at once; per bundle, in batches of `batch_docs`
    documents / `batch_bytes` characters, signatures and band hashes of the documents with words,
    emitted as column batches on BUCKETS and SETS (see `_Pending.drain`)."""

    def __init__(self, cfg: dict, namespace: str):
        self.cfg = cfg
        self.namespace = namespace

    def setup(self):
        c = self.cfg
        self.hasher = MinHasher(c["num_perm"], c["seed"], c["shingle_size"])
        self.signed = beam.metrics.Metrics.counter(self.namespace, "docs_signed")
        self.no_words = beam.metrics.Metrics.counter(self.namespace, "docs_without_words")

    def start_bundle(self):
        self.batch: List[tuple] = []  # (doc, node, id shard) not yet signed
        self.batch_chars = 0
        self.pending = _Pending()

    def process(self, doc: Document):
        c = self.cfg
        node = survivor_key(doc)
        shard = shard_of(node, c["apply_shards"])
        yield shard, (_DOC, tuple(doc))  # a plain tuple crosses the shuffle without pickling
        if self.batch and self.batch_chars + len(doc.text) > c["batch_bytes"]:
            self._sign()  # as `byte_batches`: at most batch_bytes characters, a longer document alone
        self.batch.append((doc, node, shard))
        self.batch_chars += len(doc.text)
        if len(self.batch) >= c["batch_docs"]:
            self._sign()
        if len(self.pending) >= _MAX_PENDING_DOCS:
            for tag, item in self.pending.drain(c["bucket_shards"]):
                yield beam.pvalue.TaggedOutput(tag, item)

    def finish_bundle(self):
        self._sign()
        for tag, item in self.pending.drain(self.cfg["bucket_shards"]):
            yield beam.pvalue.TaggedOutput(tag, _windowed(item))

    def _sign(self):
        if not self.batch:
            return
        c, p = self.cfg, self.pending
        docs = [d for d, _, _ in self.batch]
        sigs, has, offsets, sets = self.hasher.sign([d.text for d in docs])
        keep = np.flatnonzero(has)
        if len(docs) > len(keep):
            self.no_words.inc(len(docs) - len(keep))  # nothing to compare: never a candidate, always kept
        if len(keep):
            self.signed.inc(len(keep))
            p.bands.append(band_hashes(sigs[keep], c["bands"], c["rows"]))
            raw = sets.astype("<u4").tobytes()
            for i in keep.tolist():
                doc, node, shard = self.batch[i]
                p.sets.append(raw[4 * int(offsets[i]):4 * int(offsets[i + 1])])
                p.ids.append(node)
                p.scopes.append(bucket_scope(doc, c["scope"]))
                p.id_shards.append(shard)
        self.batch, self.batch_chars = [], 0


def bucket_pairs(members: List[str], compare_smallest: int) -> Iterator[tuple]:
    """Candidate edges (v, m), m < v, of one bucket's distinct members (sorted): each member with
    every smaller one among the `compare_smallest` smallest."""
    for i in range(1, len(members)):
        v = members[i]
        for m in members[:min(i, compare_smallest)]:
            yield v, m


def bucket_runs(bands: np.ndarray, hashes: np.ndarray) -> Iterator[np.ndarray]:
    """Row indices of each bucket (same band and band hash) with two or more rows."""
    order = np.lexsort((hashes, bands))
    b, h = bands[order], hashes[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (b[1:] != b[:-1]) | (h[1:] != h[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(order))
    shared = ends - starts > 1  # most buckets hold one document: no Python step for those
    for lo, hi in zip(starts[shared].tolist(), ends[shared].tolist()):
        yield order[lo:hi]


def _bucket_columns(batches):
    """The (bands <u4, hashes <u8, ids, weights <i8 or None) column batches of one group, concatenated;
    a weight is the number of rows a row stands for (1 when absent)."""
    bands, hashes, ids, weights = [], [], [], []
    for batch in batches:
        band_raw, hash_raw, batch_ids = batch[:3]
        bands.append(np.frombuffer(band_raw, dtype="<u4"))
        hashes.append(np.frombuffer(hash_raw, dtype="<u8"))
        ids.extend(batch_ids)
        weights.append(np.frombuffer(batch[3], dtype="<i8") if len(batch) > 3
                       else np.ones(len(batch_ids), dtype="<i8"))
    if not ids:
        return np.zeros(0, "<u4"), np.zeros(0, "<u8"), ids, np.zeros(0, "<i8")
    return np.concatenate(bands), np.concatenate(hashes), ids, np.concatenate(weights)


def cap_buckets(bands, hashes, ids, weights, keep: int):
    """Column batch with every bucket of more than `keep` distinct ids cut to its `keep` smallest
    distinct ids; the bucket's other rows' weights go onto its last kept row (a bucket's total weight,
    its row count, is kept). Associative: capping the union of capped batches is capping the union."""
    drop = []
    for rows in bucket_runs(bands, hashes):
        if len(rows) <= keep:
            continue
        rows = rows.tolist()
        by_id = sorted(rows, key=lambda i: (ids[i], i))
        kept, seen = [], set()
        for i in by_id:
            if ids[i] not in seen and len(kept) < keep:
                seen.add(ids[i])
                kept.append(i)
        if len(kept) == len(rows):
            continue
        kept_set = set(kept)
        extra = int(sum(int(weights[i]) for i in rows if i not in kept_set))
        weights[kept[-1]] += extra
        drop.extend(i for i in rows if i not in kept_set)
    if not drop:
        return bands, hashes, ids, weights
    mask = np.ones(len(ids), dtype=bool)
    mask[drop] = False
    sel = np.flatnonzero(mask)
    return bands[sel], hashes[sel], [ids[i] for i in sel.tolist()], weights[sel]


class _CapBucketsFn(beam.DoFn):
    """The combiner's first half, per element (one bundle's rows of one bucket shard): every bucket cut
    to its `hot_key_size` + 1 smallest ids with its row count, so a bucket of 10^5 members crosses the
    shuffle as at most that many rows per bundle."""

    def __init__(self, hot_key_size: int):
        self.keep = hot_key_size + 1

    def process(self, element):
        key, batch = element
        bands, hashes, ids, weights = _bucket_columns([batch])
        weights = weights.copy()
        bands, hashes, ids, weights = cap_buckets(bands, hashes, ids, weights, self.keep)
        yield key, (bands.astype("<u4").tobytes(), hashes.astype("<u8").tobytes(), ids,
                    weights.astype("<i8").tobytes())


class _FindBucketsFn(beam.DoFn):
    """((scope, bucket shard), [capped column batches]) → (id shard of v, (_EDGE, [v], [m])) edge
    batches: in every bucket with two or more and at most `hot_key_size` documents, each member v
    with each smaller member m among the bucket's `compare_smallest` smallest ids. A bucket with more
    documents is hot: out on HOT as (scope, band, band hash, its rows, its `compare_smallest`
    smallest ids), its members paired by `_HotPairsFn` where they are."""

    def __init__(self, id_shards: int, compare_smallest: int, hot_key_size: int, namespace: str):
        self.id_shards = id_shards
        self.compare_smallest = compare_smallest
        self.hot_key_size = hot_key_size
        self.namespace = namespace

    def setup(self):
        self.sizes = beam.metrics.Metrics.distribution(self.namespace, "bucket_size")
        self.edges = beam.metrics.Metrics.counter(self.namespace, "candidate_edges")
        self.hot = beam.metrics.Metrics.counter(self.namespace, "hot_buckets")

    def process(self, element):
        (scope, _), batches = element
        bands, hashes, ids, weights = _bucket_columns(batches)
        if len(ids) < 2:
            return
        edges, candidates = set(), 0
        for rows in bucket_runs(bands, hashes):
            members = sorted({ids[i] for i in rows.tolist()})
            self.sizes.update(len(members))
            if len(members) > self.hot_key_size:
                self.hot.inc()
                first = int(rows[0])
                yield beam.pvalue.TaggedOutput(HOT, (scope, int(bands[first]), int(hashes[first]),
                                                     int(weights[rows].sum()), members[:self.compare_smallest]))
                continue
            for pair in bucket_pairs(members, self.compare_smallest):
                candidates += 1
                edges.add(pair)
        if candidates:
            self.edges.inc(candidates)
        yield from _edge_batches(edges, self.id_shards)


def _edge_batches(edges, id_shards: int):
    by_shard: dict = {}
    for v, m in sorted(edges):
        vs, ms = by_shard.setdefault(shard_of(v, id_shards), ([], []))
        vs.append(v)
        ms.append(m)
    for shard, (vs, ms) in sorted(by_shard.items()):
        yield shard, (_EDGE, vs, ms)


class HotTable:
    """The hot buckets (a side input: at most bucket rows / hot_key_size of them): each bucket's
    anchors (its compare_smallest smallest ids), and each anchor's fan-out, ceil(rows of the hot
    buckets it anchors / hot_key_size): the verification groups of an anchor are keyed (id shard, sub)."""

    def __init__(self, entries, hot_key_size: int):
        self.anchors = {}
        self.hashes = {}
        rows_at = {}  # an anchor of several hot buckets (other bands, other members) meets all their rows
        for scope, band, band_hash, rows, anchors in entries:
            self.anchors[scope, band, band_hash] = anchors
            self.hashes.setdefault(scope, set()).add(band_hash)
            for m in anchors:
                rows_at[m] = rows_at.get(m, 0) + rows
        self.fanout = {m: -(-rows // hot_key_size) for m, rows in rows_at.items() if rows > hot_key_size}
        self.hash_arrays = {scope: np.array(sorted(h), dtype=np.uint64) for scope, h in self.hashes.items()}

    def sub(self, v: str, m: str) -> int:
        """The verification sub-group of edge (v, m): spread over m's fan-out by v."""
        f = self.fanout.get(m)
        if not f:
            return 0
        return xxhash.xxh64_intdigest(v.encode("utf-8", "surrogatepass"), seed=1) % f


class _HotTableCache:
    """One HotTable per side-input value (Beam hands the same list to every element of a bundle)."""

    def __init__(self, hot_key_size: int):
        self.hot_key_size = hot_key_size
        self._key = self._table = None

    def get(self, entries) -> HotTable:
        if self._table is None or self._key is not entries:
            self._key, self._table = entries, HotTable(entries, self.hot_key_size)
        return self._table


class _HotPairsFn(beam.DoFn):
    """((scope, shard), raw bucket rows) with the hot buckets (side input) → edge batches (v, m) for
    every row of a hot bucket: v with each of the bucket's anchors m < v, decided row by row."""

    def __init__(self, id_shards: int, hot_key_size: int, namespace: str):
        self.id_shards = id_shards
        self.hot_key_size = hot_key_size
        self.namespace = namespace

    def setup(self):
        self.edges = beam.metrics.Metrics.counter(self.namespace, "candidate_edges")
        self.tables = _HotTableCache(self.hot_key_size)

    def process(self, element, hot):
        if not hot:
            return
        table = self.tables.get(hot)
        (scope, _), (band_raw, hash_raw, ids) = element
        wanted = table.hash_arrays.get(scope)
        if wanted is None:
            return
        hashes = np.frombuffer(hash_raw, dtype="<u8")
        rows = np.flatnonzero(np.isin(hashes, wanted))
        if not len(rows):
            return
        bands = np.frombuffer(band_raw, dtype="<u4")
        edges, candidates = set(), 0
        for i in rows.tolist():
            anchors = table.anchors.get((scope, int(bands[i]), int(hashes[i])))
            if anchors is None:
                continue
            v = ids[i]
            for m in anchors:
                if m < v:
                    candidates += 1
                    edges.add((v, m))
        if candidates:
            self.edges.inc(candidates)
        yield from _edge_batches(edges, self.id_shards)


def _sets_of(tagged, wanted: set) -> dict:
    """id → shingle set bytes for the ids in `wanted`, from the group's (_SET, ids, sizes, values)
    batches. An id signed twice (two documents with one id) keeps the smallest bytes: deterministic."""
    found: dict = {}
    for value in tagged:
        if value[0] != _SET:
            continue
        _, ids, sizes_raw, raw = value
        ends = np.cumsum(np.frombuffer(sizes_raw, dtype="<i8")) * 4
        start = 0
        for doc_id, end in zip(ids, ends.tolist()):
            if doc_id in wanted:
                shingle_set = raw[start:end]
                if doc_id not in found or shingle_set < found[doc_id]:
                    found[doc_id] = shingle_set
            start = end
    return found


class _AttachLargerSetFn(beam.DoFn):
    """(id shard, [(_SET, ids, sizes, values) | (_EDGE, [v], [m])]) → ((id shard of m, sub), (_EDGE, [v],
    [m], sizes of v's sets, their values)): each distinct edge once (all edges of v meet here), with v's
    shingle set; sub spreads the edges of a hot bucket's anchor m (`HotTable.sub`)."""

    def __init__(self, id_shards: int, hot_key_size: int):
        self.id_shards = id_shards
        self.hot_key_size = hot_key_size

    def setup(self):
        self.tables = _HotTableCache(self.hot_key_size)

    def process(self, element, hot):
        table = self.tables.get(hot)
        _, tagged = element
        edges = set()
        for value in tagged:
            if value[0] == _EDGE:
                edges.update(zip(value[1], value[2]))
        if not edges:
            return
        sets = _sets_of(tagged, {v for v, _ in edges})
        by_shard: dict = {}
        for v, m in sorted(edges):
            shingle_set = sets.get(v)
            if shingle_set is None:
                continue
            vs, ms, raw = by_shard.setdefault((shard_of(m, self.id_shards), table.sub(v, m)), ([], [], []))
            vs.append(v)
            ms.append(m)
            raw.append(shingle_set)
        for shard, (vs, ms, raw) in sorted(by_shard.items()):
            sizes = np.array([len(r) // 4 for r in raw], dtype="<i8")
            yield shard, (_EDGE, vs, ms, sizes.tobytes(), b"".join(raw))


class _FanOutSetsFn(beam.DoFn):
    """(id shard, set batch) → ((id shard, 0), set batch), and the set of each hot bucket's anchor once
    more for each further sub-group of its fan-out, ((id shard, s), (_SET, [m], size, set))."""

    def __init__(self, hot_key_size: int):
        self.hot_key_size = hot_key_size

    def setup(self):
        self.tables = _HotTableCache(self.hot_key_size)

    def process(self, element, hot):
        shard, value = element
        yield (shard, 0), value
        if not hot:
            return
        fanout = self.tables.get(hot).fanout
        _, ids, sizes_raw, raw = value
        ends = np.cumsum(np.frombuffer(sizes_raw, dtype="<i8")) * 4
        start = 0
        for doc_id, end in zip(ids, ends.tolist()):
            f = fanout.get(doc_id, 1)
            for sub in range(1, f):
                yield (shard, sub), (_SET, [doc_id], np.array([(end - start) // 4], "<i8").tobytes(), raw[start:end])
            start = end


class _CompareWithSmallerFn(beam.DoFn):
    """(id shard, [(_SET, …) | (_EDGE, [v], [m], sizes, sets of v)]) → (v, m) when the true Jaccard of
    the two shingle sets (`dedup.minhash.set_jaccard`) passes the threshold."""

    def __init__(self, threshold: float, namespace: str):
        self.threshold = threshold
        self.namespace = namespace

    def setup(self):
        self.verified = beam.metrics.Metrics.counter(self.namespace, "edges_verified")
        self.rejected = beam.metrics.Metrics.counter(self.namespace, "edges_rejected")

    def process(self, element):
        _, tagged = element
        wanted = set()
        for value in tagged:
            if value[0] == _EDGE:
                wanted.update(value[2])
        if not wanted:
            return
        sets = {m: np.frombuffer(raw, dtype="<u4") for m, raw in _sets_of(tagged, wanted).items()}
        # Batch by batch: a hot m (a big cluster) has all its edges here, spread over one batch per
        # shard of v; concatenating them would hold the whole cluster's sets at once.
        verified = rejected = 0
        for value in tagged:
            if value[0] != _EDGE:
                continue
            _, vs, ms, sizes_raw, raw = value
            values = np.frombuffer(raw, dtype="<u4")
            ends = np.cumsum(np.frombuffer(sizes_raw, dtype="<i8")).tolist()
            start = 0
            for v, m, end in zip(vs, ms, ends):
                set_m = sets.get(m)
                if set_m is not None:
                    if set_jaccard(values[start:end], set_m) >= self.threshold:
                        verified += 1
                        yield v, m
                    else:
                        rejected += 1
                start = end
        if verified:
            self.verified.inc(verified)
        if rejected:
            self.rejected.inc(rejected)


class VerifyEdges(beam.PTransform):
    """(edge batches keyed by the id shard of v, shingle set batches keyed by id shard, the hot buckets)
    → (v, m) for each distinct candidate edge whose shingle sets' Jaccard >= threshold."""

    def __init__(self, threshold: float, id_shards: int, namespace: str, hot_key_size: int = 1024, label=None):
        super().__init__(label)
        self.threshold = threshold
        self.id_shards = id_shards
        self.namespace = namespace
        self.hot_key_size = hot_key_size

    def expand(self, pcolls):
        edges, sets, hot = pcolls
        hot_list = beam.pvalue.AsList(hot)
        with_larger = (
            (sets, edges)
            | "FlattenLarger" >> beam.Flatten()
            | "GroupLarger" >> beam.GroupByKey()
            | "AttachLarger" >> beam.ParDo(_AttachLargerSetFn(self.id_shards, self.hot_key_size), hot_list)
        )
        smaller_sets = sets | "FanOutSets" >> beam.ParDo(_FanOutSetsFn(self.hot_key_size), hot_list)
        return (
            (smaller_sets, with_larger)
            | "FlattenSmaller" >> beam.Flatten()
            | "GroupSmaller" >> beam.GroupByKey()
            | "Compare" >> beam.ParDo(_CompareWithSmallerFn(self.threshold, self.namespace))
        )


class _DistinctEdgesFn(beam.DoFn):
    """(id shard of v, [(_EDGE, [v], [m]) batches]) → each distinct candidate edge (v, m) once."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def setup(self):
        self.distinct = beam.metrics.Metrics.counter(self.namespace, "edges_distinct")

    def process(self, element):
        _, batches = element
        edges = set()
        for _, vs, ms in batches:
            edges.update(zip(vs, ms))
        if edges:
            self.distinct.inc(len(edges))
        yield from sorted(edges)


class DistinctEdges(beam.PTransform):
    """Candidate edge batches keyed by the id shard of v → distinct (v, m): every band collision is
    a duplicate (datatrove's semantics), nothing is verified."""

    def __init__(self, namespace: str, label=None):
        super().__init__(label)
        self.namespace = namespace

    def expand(self, candidates):
        return (candidates | "GroupByShard" >> beam.GroupByKey()
                | "Distinct" >> beam.ParDo(_DistinctEdgesFn(self.namespace)))


class _ApplyShardFn(beam.DoFn):
    """(shard, [(_DOC, doc fields) | (_REMOVED, id)]) → kept docs, plus drop events for the removed."""

    def __init__(self, namespace: str):
        self.namespace = namespace

    def setup(self):
        self.removed = beam.metrics.Metrics.counter(self.namespace, "removed")
        self.kept = beam.metrics.Metrics.counter(self.namespace, "kept")

    def process(self, element):
        _, tagged = element
        removed_ids = {value for tag, value in tagged if tag == _REMOVED}
        removed = kept = 0
        for tag, fields in tagged:
            if tag != _DOC:
                continue
            doc = Document._make(fields)
            if survivor_key(doc) in removed_ids:
                removed += 1
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, REASON, doc.nbytes))
            else:
                kept += 1
                yield doc
        if removed:  # counted once per shard; a counter that never moves stays absent, as before
            self.removed.inc(removed)
        if kept:
            self.kept.inc(kept)


class ApplyRemovals(beam.PTransform):
    """(docs keyed (id shard, (_DOC, tuple(doc))), removal edges (v, m)) → (kept docs, drop events):
    every v is removed."""

    def __init__(self, shards: int, namespace: str, label=None):
        super().__init__(label)
        self.shards = shards
        self.namespace = namespace

    def expand(self, pcolls):
        keyed_docs, removal_edges = pcolls
        shards = self.shards
        keyed_ids = removal_edges | "KeyRemovalsByShard" >> beam.Map(
            lambda edge: (shard_of(edge[0], shards), (_REMOVED, edge[0])))
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
        signed = docs | "Sign" >> beam.ParDo(_SignFn(cfg, ns)).with_outputs(BUCKETS, SETS, main="docs")
        hot_size = cfg["hot_key_size"]
        found = (
            signed[BUCKETS]
            | "CapBuckets" >> beam.ParDo(_CapBucketsFn(hot_size))
            | "GroupByBucketShard" >> beam.GroupByKey()
            | "FindBuckets" >> beam.ParDo(_FindBucketsFn(cfg["apply_shards"], cfg["compare_smallest"], hot_size, ns))
            .with_outputs(HOT, main="edges")
        )
        hot_pairs = signed[BUCKETS] | "HotPairs" >> beam.ParDo(
            _HotPairsFn(cfg["apply_shards"], hot_size, ns), beam.pvalue.AsList(found[HOT]))
        candidates = (found.edges, hot_pairs) | "Candidates" >> beam.Flatten()
        if cfg["duplicates"] == "band_collision":
            edges = candidates | "BandCollisions" >> DistinctEdges(ns)
        else:
            edges = (candidates, signed[SETS], found[HOT]) | "Verify" >> VerifyEdges(
                cfg["jaccard_threshold"], cfg["apply_shards"], ns, hot_size)
        stars = edges | "Components" >> ConnectedComponents(cfg["cc_rounds"], ns, hot_size)
        return (signed.docs, stars) | "ApplyPerShard" >> ApplyRemovals(cfg["apply_shards"], ns)
