"""CCNet line dedup: every line whose normalised hash occurs two or more times in the dedup scope is
removed everywhere, its first occurrence included; empty lines go too; a document left with no
lines is dropped.

Normalisation (cc_net `normalize_for_dedup`): strip, lowercase, every digit → "0", delete a fixed
set of Unicode punctuation and the control characters. Hash: the first 8 bytes of SHA-1 of the
UTF-8 line, read as a little-endian uint64.

Beam plan (all corpus-wide state in the shuffle, none in one worker's memory):
1. `HashLines`: per document, the hashes of its lines; batched per bundle into numpy arrays keyed
   by (scope, hash shard) — a few large shuffle elements instead of one per line.
2. GroupByKey per (scope, hash shard) → `FindRepeats`: sort the shard's hashes, mark every row
   whose hash occurs ≥ 2 times, and emit the (document, line) removals batched per document shard.
3. CoGroupByKey of documents and removals on the document shard → `ApplyRemovals`: each
   document is rewritten with only the removals of its own shard held in memory.
Shard counts are recipe values: raise them with the corpus so one shard's arrays stay small.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Dict, List, Tuple

import apache_beam as beam
import numpy as np

from common import events as ev
from common.record import Document

# cc_net's UNICODE_PUNCT keys: deleted for dedup (cc_net maps them to ASCII for the LM instead).
UNICODE_PUNCT = "，。、„”“«»１」「《》´∶：？！（）；–—．～’…━〈〉【】％►"
# Control characters 0–31 and 127–159, but not "\n": we normalise whole documents at once and
# split afterwards, which gives the same lines as cc_net's per-line normalisation.
_CONTROL = [c for c in list(range(0, 32)) + list(range(127, 160)) if c != 10]
_DELETE = re.compile("[" + re.escape(UNICODE_PUNCT + "".join(map(chr, _CONTROL))) + "]")
_DIGIT = re.compile(r"\d")
# ASCII-only text: one bytes.translate does digits and control characters (several times faster).
_ASCII_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_ASCII_CONTROL = bytes(c for c in _CONTROL if c < 128)

REASON_EMPTY = "line_dedup_empty"


def normalize_line(line: str) -> str:
    """cc_net's dedup normalisation of one line."""
    return _DELETE.sub("", _DIGIT.sub("0", line.strip().lower()))


def normalized_lines(text: str) -> List[str]:
    """The normalised form of each line of `text` (same count and order as text.split('\\n'))."""
    # Strip per line first (as cc_net does), then lowercase, digits and deletion on the whole
    # text at once (one C call each): the same lines as normalize_line, several times faster.
    whole = "\n".join(line.strip() for line in text.split("\n")).lower()
    if whole.isascii():
        return whole.encode("ascii").translate(_ASCII_DIGITS, _ASCII_CONTROL).decode("ascii").split("\n")
    return _DELETE.sub("", _DIGIT.sub("0", whole)).split("\n")


def line_hash(normalized: str) -> int:
    return int.from_bytes(hashlib.sha1(normalized.encode("utf-8")).digest()[:8], "little")


def line_hashes(text: str) -> Tuple[np.ndarray, np.ndarray]:
    """(hashes of the non-empty normalised lines as uint64, their line indices as uint32)."""
    sha1 = hashlib.sha1
    digests = []
    indices = []
    for i, line in enumerate(normalized_lines(text)):
        if line:
            digests.append(sha1(line.encode("utf-8")).digest()[:8])
            indices.append(i)
    hashes = np.frombuffer(b"".join(digests), dtype="<u8") if digests else np.zeros(0, "<u8")
    return hashes, np.asarray(indices, dtype=np.uint32)


def dedup_in_memory(texts: List[str]) -> List[str]:
    """Reference semantics on a small list (tests, benchmarks): texts with repeated lines removed."""
    counts: Dict[int, int] = defaultdict(int)
    per_doc = []
    for text in texts:
        hashes, idx = line_hashes(text)
        per_doc.append((hashes, idx))
        for h in hashes.tolist():
            counts[h] += 1
    out = []
    for text, (hashes, idx) in zip(texts, per_doc):
        keep = {i for h, i in zip(hashes.tolist(), idx.tolist()) if counts[h] < 2}
        out.append("\n".join(line for i, line in enumerate(text.split("\n")) if i in keep))
    return out


def doc_key(doc_id: str) -> Tuple[int, int]:
    """128 bits of the document id as two uint64 (ids are source/<32 hex>)."""
    digest = hashlib.sha1(doc_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:16], "little")


def doc_shard(doc_id: str, shards: int) -> int:
    return doc_key(doc_id)[0] % shards


class _Batches:
    """Line hashes of many documents, per scope; split by hash shard only when drained, so the
    per-document cost is a few list appends whatever the shard count."""

    def __init__(self, hash_shards: int):
        self.hash_shards = hash_shards
        self.per_scope: Dict[object, List[list]] = defaultdict(lambda: [[], [], [], [], []])
        self.rows = 0

    def add(self, scope, hashes, k1: int, k2: int, idx) -> None:
        h, a, b, i, n = self.per_scope[scope]
        h.append(hashes)
        a.append(k1)
        b.append(k2)
        i.append(idx)
        n.append(len(hashes))
        self.rows += len(hashes)

    def drain(self):
        """((scope, hash shard), (hashes, doc key hi, doc key lo, line idx)) column batches."""
        for scope in sorted(self.per_scope, key=repr):
            h, a, b, i, n = self.per_scope[scope]
            hashes = np.concatenate(h)
            k1 = np.repeat(np.asarray(a, dtype=np.uint64), n)
            k2 = np.repeat(np.asarray(b, dtype=np.uint64), n)
            idx = np.concatenate(i)
            shard = hashes % np.uint64(self.hash_shards)
            order = np.argsort(shard, kind="stable")
            bounds = np.searchsorted(shard[order], np.arange(self.hash_shards + 1, dtype=np.uint64))
            for s_, (lo, hi) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist())):
                if hi > lo:
                    sel = order[lo:hi]
                    yield (scope, s_), (hashes[sel], k1[sel], k2[sel], idx[sel])
        self.per_scope.clear()
        self.rows = 0


class HashLines(beam.DoFn):
    """doc → (doc shard, (doc, indices of its non-empty lines)) on the main output; batched line hashes on the `hashes` output."""

    HASHES = "hashes"

    def __init__(self, hash_shards: int, doc_shards: int, scope_of, max_rows: int = 1 << 20):
        self.hash_shards = hash_shards
        self.doc_shards = doc_shards
        self.scope_of = scope_of
        self.max_rows = max_rows

    def start_bundle(self):
        self.batches = _Batches(self.hash_shards)

    def process(self, doc: Document):
        hashes, idx = line_hashes(doc.text)
        k1, k2 = doc_key(doc.id)
        self.batches.add(self.scope_of(doc), hashes, k1, k2, idx)
        beam.metrics.Metrics.counter("line_dedup", "lines").inc(len(hashes))
        yield (k1 % self.doc_shards, (doc, idx))
        if self.batches.rows >= self.max_rows:
            for item in self.batches.drain():
                yield beam.pvalue.TaggedOutput(self.HASHES, item)

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindow
        from apache_beam.utils.windowed_value import WindowedValue

        for item in self.batches.drain():
            yield beam.pvalue.TaggedOutput(
                self.HASHES, WindowedValue(item, GlobalWindow().max_timestamp(), [GlobalWindow()]))


class FindRepeats(beam.DoFn):
    """((scope, hash shard), [column batches]) → (doc shard, (k1, k2, line idx)) removal batches."""

    def __init__(self, doc_shards: int):
        self.doc_shards = doc_shards

    def process(self, element):
        _, batches = element
        cols = [[], [], [], []]
        for batch in batches:
            for c, arr in zip(cols, batch):
                c.append(arr)
        h, k1, k2, idx = (np.concatenate(c) for c in cols)
        order = np.argsort(h, kind="stable")
        hs = h[order]
        # A row is repeated when its sorted neighbour on either side has the same hash.
        same_next = np.zeros(len(hs), dtype=bool)
        if len(hs) > 1:
            eq = hs[1:] == hs[:-1]
            same_next[:-1] |= eq
            same_next[1:] |= eq
        rows = order[same_next]
        beam.metrics.Metrics.counter("line_dedup", "repeated_lines").inc(len(rows))
        if not len(rows):
            return
        k1, k2, idx = k1[rows], k2[rows], idx[rows]
        shard = k1 % np.uint64(self.doc_shards)
        for s in np.unique(shard).tolist():
            sel = shard == s
            yield int(s), (k1[sel], k2[sel], idx[sel])


class ApplyRemovals(beam.DoFn):
    """(doc shard, {docs, removals}) → rewritten docs; `line_dedup_empty` drops."""

    def process(self, element):
        _, grouped = element
        remove: Dict[Tuple[int, int], set] = defaultdict(set)
        for k1, k2, idx in grouped["removals"]:
            for a, b, i in zip(k1.tolist(), k2.tolist(), idx.tolist()):
                remove[(a, b)].add(i)
        for doc, nonempty in grouped["docs"]:
            lines = doc.text.split("\n")
            gone = remove.get(doc_key(doc.id), ())
            kept = [lines[i] for i in nonempty.tolist() if i not in gone]
            if not kept:
                beam.metrics.Metrics.counter("line_dedup", "docs_emptied").inc()
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, REASON_EMPTY, doc.nbytes))
                continue
            yield doc._replace(text="\n".join(kept)).with_meta(
                original_nlines=len(lines), nlines=len(kept), original_length=len(doc.text))


class LineDedup(beam.PTransform):
    """docs → (docs without repeated lines, drop events).

    `scope_of(doc)` names the dedup scope of a document ("global": one scope for the whole run;
    cc_net: its group of shards). Only documents in the same scope see each other's lines.
    """

    def __init__(self, hash_shards: int = 64, doc_shards: int = 64, scope_of=None, label=None):
        super().__init__(label)
        self.hash_shards = hash_shards
        self.doc_shards = doc_shards
        self.scope_of = scope_of or _global_scope

    def expand(self, docs):
        hashed = docs | "HashLines" >> beam.ParDo(
            HashLines(self.hash_shards, self.doc_shards, self.scope_of)).with_outputs(HashLines.HASHES, main="docs")
        removals = (
            hashed[HashLines.HASHES]
            | "GroupByHashShard" >> beam.GroupByKey()
            | "FindRepeats" >> beam.ParDo(FindRepeats(self.doc_shards))
        )
        out = (
            {"docs": hashed.docs, "removals": removals}
            | "JoinOnDocShard" >> beam.CoGroupByKey()
            | "ApplyRemovals" >> beam.ParDo(ApplyRemovals()).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, out[ev.EVENTS]


def _global_scope(doc: Document) -> str:
    return "global"
