"""Removing repeated text units (lines, sentence spans) across a corpus, through the runner's shuffle.

A *unit splitter* says what the units of a text are and how to rebuild a text without some:
    units(text) -> (hashes: uint64 array, positions: uint32 array, aux)
    apply(doc, aux, removed_positions: sorted uint32 array, repeats possible) -> Document | None
        (the rebuilt document with its meta, None when nothing is left)
`aux` travels with the document (e.g. which lines were non-empty), so nothing is computed twice.

Two policies:
- `keep_first=False` (CCNet line dedup): every occurrence of a unit seen ≥ 2 times is removed;
- `keep_first=True` (C4 span dedup): all but the first occurrence, "first" being the smallest
  (document key, position), which is the same whatever order the runner delivers.

Plan (no corpus-wide state in one worker):
1. `HashUnits`: per document, its unit hashes; batched per bundle into numpy columns keyed by
   (scope, hash shard) — a few large shuffle elements instead of one per unit. A unit already
   repeated within the bundle is decided there (`local_repeats`): its removals go straight to the
   documents' shards and at most two of its rows go on, so a hot unit (a line on every page of a
   site) does not bring its every copy into one hash-shard group.
2. GroupByKey per (scope, hash shard) → `FindRepeats`: sort, mark the removed rows, emit them
   batched per document shard.
3. CoGroupByKey of documents and removals on the document shard → `ApplyRemovals`: each document
   is rebuilt with only its own shard's removals in memory.
Shard counts are recipe values: raise them with the corpus so one shard's arrays stay small.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Dict, List, Tuple

import apache_beam as beam
import numpy as np

from common import events as ev
from common.record import Document


def doc_key(doc_id: str) -> Tuple[int, int]:
    """128 bits of the document id's SHA-1 as two uint64: the join key and the survivor order."""
    digest = hashlib.sha1(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:16], "little")


def hashes_of(units: List[str]) -> np.ndarray:
    """First 8 bytes of SHA-1 of each UTF-8 unit, as little-endian uint64 (cc_net's line hash)."""
    return hashes_of_bytes([u.encode("utf-8") for u in units])


def hashes_of_bytes(units: List[bytes]) -> np.ndarray:
    """`hashes_of` for units already encoded."""
    if not units:
        return np.zeros(0, "<u8")
    return np.frombuffer(b"".join([h.digest()[:8] for h in map(hashlib.sha1, units)]), dtype="<u8")


# Column batches cross the shuffle as raw bytes: FastPrimitivesCoder writes bytes natively, while
# numpy arrays would be pickled (and pickled again for the runner's size sampling).
UNIT_COLUMNS = ("<u8", "<u8", "<u8", "<u4")  # unit hash, doc key hi, doc key lo, position
REMOVAL_COLUMNS = UNIT_COLUMNS[1:]


def pack(columns) -> tuple:
    return tuple(np.ascontiguousarray(c).tobytes() for c in columns)


def unpack(raw: tuple, dtypes) -> tuple:
    return tuple(np.frombuffer(r, dtype=d) for r, d in zip(raw, dtypes))


def local_repeats(hashes: np.ndarray, k1: np.ndarray, k2: np.ndarray, positions: np.ndarray, keep_first: bool,
                  keep_first_in_doc: bool) -> Tuple[np.ndarray, np.ndarray]:
    """A bundle's rows split into (rows still to decide, rows removed already), so that a hot unit
    sends at most two rows per bundle to its hash-shard group instead of every copy.

    keep_first: every row after a unit's first in the bundle cannot be the corpus' first: removed
    here; the first goes on. Otherwise a unit already repeated in the bundle (in two documents, or
    with `keep_first_in_doc` off at all) is removed everywhere: all its rows are removed here, and
    two of them (from two documents where that is the test) go on, so that the group still sees it
    repeated and removes its copies in other bundles too.
    """
    order = np.lexsort((positions, k2, k1, hashes))
    hs, a, b = hashes[order], k1[order], k2[order]
    same = np.zeros(len(hs), dtype=bool)
    same[1:] = hs[1:] == hs[:-1]
    if not same.any():
        return order, order[:0]
    if keep_first:
        return order[~same], order[same]
    group = np.cumsum(~same) - 1
    if keep_first_in_doc:
        other = same.copy()
        other[1:] &= (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    else:
        other = same
    repeated = np.bincount(group, weights=other, minlength=group[-1] + 1)[group] > 0
    rep = ~same & repeated  # each repeated unit's first row ...
    idx = np.flatnonzero(other)
    _, first_other = np.unique(group[idx], return_index=True)
    rep[idx[first_other]] = True  # ... and its first row from another document (or its second row)
    return order[~repeated | rep], order[repeated]


class _Batches:
    """Unit hashes of many documents, per scope; split by hash shard only when drained, so the
    per-document cost is a few list appends whatever the shard count."""

    def __init__(self, hash_shards: int, doc_shards: int = 1, keep_first: bool = False,
                 keep_first_in_doc: bool = False):
        self.hash_shards = hash_shards
        self.doc_shards = doc_shards
        self.keep_first = keep_first
        self.keep_first_in_doc = keep_first_in_doc
        self.per_scope: Dict[object, List[list]] = defaultdict(lambda: [[], [], [], [], []])
        self.rows = 0

    def add(self, scope, hashes, k1: int, k2: int, positions) -> None:
        h, a, b, i, n = self.per_scope[scope]
        h.append(hashes)
        a.append(k1)
        b.append(k2)
        i.append(positions)
        n.append(len(hashes))
        self.rows += len(hashes)

    def drain(self):
        """((scope, hash shard), (hashes, doc key hi, doc key lo, positions)) column batches, and
        (REMOVED, (doc shard, (doc key hi, doc key lo, positions))) for rows decided in the bundle."""
        for scope in sorted(self.per_scope, key=repr):
            h, a, b, i, n = self.per_scope[scope]
            hashes = np.concatenate(h)
            k1 = np.repeat(np.asarray(a, dtype=np.uint64), n)
            k2 = np.repeat(np.asarray(b, dtype=np.uint64), n)
            positions = np.concatenate(i).astype(np.uint32)
            keep, removed = local_repeats(hashes, k1, k2, positions, self.keep_first, self.keep_first_in_doc)
            if len(removed):
                shard_of = k1[removed] % np.uint64(self.doc_shards)
                for d in np.unique(shard_of).tolist():
                    sel = removed[shard_of == d]
                    yield REMOVED, (int(d), pack((k1[sel], k2[sel], positions[sel])))
            hashes, k1, k2, positions = hashes[keep], k1[keep], k2[keep], positions[keep]
            shard = hashes % np.uint64(self.hash_shards)
            order = np.argsort(shard, kind="stable")
            bounds = np.searchsorted(shard[order], np.arange(self.hash_shards + 1, dtype=np.uint64))
            for s, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
                if hi > lo:
                    sel = order[lo:hi]
                    yield (scope, s), pack((hashes[sel], k1[sel], k2[sel], positions[sel]))
        self.per_scope.clear()
        self.rows = 0


REMOVED = "removed_in_bundle"


class HashUnits(beam.DoFn):
    """doc → (doc shard, (doc as a plain tuple, aux)) on the main output; batched unit hashes on `hashes`."""

    HASHES = "hashes"

    def __init__(self, splitter, hash_shards: int, doc_shards: int, scope_of, counter: str, max_rows: int = 1 << 20,
                 keep_first: bool = False, keep_first_in_doc: bool = False):
        self.splitter = splitter
        self.hash_shards = hash_shards
        self.doc_shards = doc_shards
        self.scope_of = scope_of
        self.counter = counter
        self.max_rows = max_rows
        self.keep_first = keep_first
        self.keep_first_in_doc = keep_first_in_doc

    def setup(self):
        self.units_counter = beam.metrics.Metrics.counter(self.counter, "units")

    def start_bundle(self):
        self.batches = _Batches(self.hash_shards, self.doc_shards, self.keep_first, self.keep_first_in_doc)

    def _drained(self):
        for key, value in self.batches.drain():
            # Rows decided inside the bundle go straight to their documents' shard.
            yield (REMOVED, value) if key == REMOVED else (self.HASHES, (key, value))

    def process(self, doc: Document):
        hashes, positions, aux = self.splitter.units(doc.text)
        k1, k2 = doc_key(doc.id)
        self.batches.add(self.scope_of(doc), hashes, k1, k2, positions)
        self.units_counter.inc(len(hashes))
        yield (k1 % self.doc_shards, (tuple(doc), aux))  # a plain tuple crosses the shuffle unpickled
        if self.batches.rows >= self.max_rows:
            for tag, item in self._drained():
                yield beam.pvalue.TaggedOutput(tag, item)

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        for tag, item in self._drained():
            yield beam.pvalue.TaggedOutput(tag, WindowedValue(item, GlobalWindow().max_timestamp(), [GlobalWindow()]))


def removed_rows(hashes: np.ndarray, k1: np.ndarray, k2: np.ndarray, positions: np.ndarray, keep_first: bool,
                 keep_first_in_doc: bool = False) -> np.ndarray:
    """Indices of the rows to remove.

    keep_first: all but the first occurrence of every repeated hash (C4's span dedup).
    Otherwise every row of a hash found in two or more documents; and a hash repeated inside one
    document only is either removed entirely, or (`keep_first_in_doc`, cc_net's `dedup.py`: its
    hash set takes a document's hashes as one batch, then `finalize_doc` keeps a line's first copy
    in the document) kept at its first position.
    """
    order = np.lexsort((positions, k2, k1, hashes))  # by hash, then (doc key, position)
    hs = hashes[order]
    if len(hs) < 2:
        return np.zeros(0, dtype=np.int64)
    same_as_prev = np.zeros(len(hs), dtype=bool)
    same_as_prev[1:] = hs[1:] == hs[:-1]
    if keep_first:
        return order[same_as_prev]
    if keep_first_in_doc:
        a, b = k1[order], k2[order]
        other_doc = same_as_prev.copy()
        other_doc[1:] &= (a[1:] != a[:-1]) | (b[1:] != b[:-1])
        group = np.cumsum(~same_as_prev) - 1  # one id per run of equal hashes
        multi_doc = np.bincount(group, weights=other_doc, minlength=group[-1] + 1)[group] > 0
        return order[multi_doc | same_as_prev]
    repeated = same_as_prev.copy()
    repeated[:-1] |= same_as_prev[1:]
    return order[repeated]


class FindRepeats(beam.DoFn):
    """((scope, hash shard), [column batches]) → (doc shard, (k1, k2, positions)) removal batches."""

    def __init__(self, doc_shards: int, keep_first: bool, counter: str, keep_first_in_doc: bool = False):
        self.doc_shards = doc_shards
        self.keep_first = keep_first
        self.counter = counter
        self.keep_first_in_doc = keep_first_in_doc

    def process(self, element):
        _, batches = element
        cols = [[], [], [], []]
        for batch in batches:
            for c, arr in zip(cols, unpack(batch, UNIT_COLUMNS)):
                c.append(arr)
        h, k1, k2, pos = (np.concatenate(c) for c in cols)
        rows = removed_rows(h, k1, k2, pos, self.keep_first, self.keep_first_in_doc)
        beam.metrics.Metrics.counter(self.counter, "removed_units").inc(len(rows))
        if not len(rows):
            return
        k1, k2, pos = k1[rows], k2[rows], pos[rows]
        shard = k1 % np.uint64(self.doc_shards)
        for s in np.unique(shard).tolist():
            sel = shard == s
            yield int(s), pack((k1[sel], k2[sel], pos[sel]))


_NONE_REMOVED = np.zeros(0, dtype=np.uint32)


def removals_by_doc(batches) -> Dict[Tuple[int, int], np.ndarray]:
    """Removal batches (doc key hi, doc key lo, positions) → {doc key: its removed positions,
    sorted (a row removed both in its bundle and by its group appears twice)}: one sort of the
    shard's rows instead of a Python step per row."""
    if not batches:
        return {}
    k1, k2, pos = (np.concatenate(c) for c in zip(*batches))
    if not len(k1):
        return {}
    order = np.lexsort((pos, k2, k1))
    k1, k2, pos = k1[order], k2[order], pos[order]
    starts = np.flatnonzero(np.r_[True, (k1[1:] != k1[:-1]) | (k2[1:] != k2[:-1])])
    ends = np.r_[starts[1:], len(k1)]
    return {(a, b): pos[s:e] for a, b, s, e in zip(k1[starts].tolist(), k2[starts].tolist(), starts.tolist(),
                                                   ends.tolist())}


class ApplyRemovals(beam.DoFn):
    """(doc shard, {docs, removals}) → rebuilt docs; `empty_reason` drops for documents left empty;
    the text removed from the documents kept as `trimmed` events named `counter`, summed per bundle."""

    def __init__(self, splitter, empty_reason: str, counter: str):
        self.splitter = splitter
        self.empty_reason = empty_reason
        self.counter = counter

    def start_bundle(self):
        self.totals = ev.Totals()

    def finish_bundle(self):
        for event in self.totals.events():
            yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.windowed(event))

    def process(self, element):
        _, grouped = element
        remove = removals_by_doc([unpack(r, REMOVAL_COLUMNS) for r in grouped["removals"]])
        for fields, aux in grouped["docs"]:
            doc = Document._make(fields)
            removed = remove.get(doc_key(doc.id), _NONE_REMOVED)
            rebuilt = self.splitter.apply(doc, aux, removed)
            if rebuilt is None:
                beam.metrics.Metrics.counter(self.counter, "docs_emptied").inc()
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, self.empty_reason, doc.nbytes))
                continue
            self.totals.trim_between(doc, rebuilt, self.counter)  # empty lines go too, even with no removal
            yield rebuilt


def _one_scope(doc: Document) -> str:
    return "global"


class RemoveRepeatedUnits(beam.PTransform):
    """docs → (docs without repeated units, drop events for documents left empty).

    `scope_of(doc)` names the dedup scope of a document: only documents in the same scope see
    each other's units.
    """

    def __init__(self, splitter, keep_first: bool, empty_reason: str, hash_shards: int = 64, doc_shards: int = 64,
                 scope_of=None, counter: str = "repeats", keep_first_in_doc: bool = False, label=None):
        super().__init__(label)
        self.splitter = splitter
        self.keep_first = keep_first
        self.keep_first_in_doc = keep_first_in_doc
        self.empty_reason = empty_reason
        self.hash_shards = int(hash_shards)
        self.doc_shards = int(doc_shards)
        self.scope_of = scope_of or _one_scope
        self.counter = counter

    def expand(self, docs):
        hashed = docs | "HashUnits" >> beam.ParDo(HashUnits(
            self.splitter, self.hash_shards, self.doc_shards, self.scope_of, self.counter,
            keep_first=self.keep_first, keep_first_in_doc=self.keep_first_in_doc)).with_outputs(
                HashUnits.HASHES, REMOVED, main="docs")
        removals = (
            hashed[HashUnits.HASHES]
            | "GroupByHashShard" >> beam.GroupByKey()
            | "FindRepeats" >> beam.ParDo(FindRepeats(self.doc_shards, self.keep_first, self.counter,
                                                      self.keep_first_in_doc))
        )
        removals = (removals, hashed[REMOVED]) | "AllRemovals" >> beam.Flatten()
        out = (
            {"docs": hashed.docs, "removals": removals}
            | "JoinOnDocShard" >> beam.CoGroupByKey()
            | "ApplyRemovals" >> beam.ParDo(
                ApplyRemovals(self.splitter, self.empty_reason, self.counter)).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, out[ev.EVENTS]
