"""Book-level dedup by shingle containment, through the runner's shuffle.

LLaMA removes a book whose content overlaps another's by more than 90%. Overlap here is
*containment*: with S(X) the set of word n-gram shingles of book X,

    containment(A in B) = |S(A) ∩ S(B)| / |S(A)|

and A is dropped when containment(A in B) > threshold for some other book B. When both books are
contained in each other (near-identical copies), the one with the larger id is dropped, so the
survivor is the smaller id whatever order the runner delivers things in. (RP1's SimHash with a
Hamming distance is not an overlap measure; this is.)

The graph, with no corpus-wide state in any worker:
  book → its distinct shingles (optionally a hash-based 1-in-`sample_mod` sample: the same
  shingles are sampled in every book, so the estimate of |A∩B| is unbiased)
  → GroupByKey(shingle) → every pair of books sharing it (shingles shared by more than
  `max_books_per_shingle` books are boilerplate and skipped, counted) → CombinePerKey(sum) =
  |S(A)∩S(B)| → verdicts → CoGroupByKey with the books on id → kept books and drop events.
Ids must be unique across every corpus fed in (sources make them from corpus + location), so two
corpora never collide in this step.
"""
from __future__ import annotations

import re
from typing import Optional, Set, Tuple

import apache_beam as beam
import xxhash

from common import events as ev
from common.record import Document

REASON = "book_overlap"
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 5, sample_mod: int = 1) -> Set[int]:
    """Distinct hashes of the word n-grams of `text` (case-folded); keeps h % sample_mod == 0."""
    words = _WORD.findall(text.casefold())
    if len(words) < n:
        return set()
    out = set()
    for i in range(len(words) - n + 1):
        h = xxhash.xxh64_intdigest(" ".join(words[i: i + n]).encode("utf-8", "surrogatepass"))
        if h % sample_mod == 0:
            out.add(h)
    return out


def containment(a: Set[int], b: Set[int]) -> float:
    """|a ∩ b| / |a| (0 for an empty a)."""
    return len(a & b) / len(a) if a else 0.0


def verdict(a: str, na: int, b: str, nb: int, inter: int, threshold: float) -> Optional[Tuple[str, str, float]]:
    """(dropped id, kept id, containment of the dropped book) or None, for a pair a < b."""
    ca = inter / na if na else 0.0
    cb = inter / nb if nb else 0.0
    if ca > threshold and cb > threshold:
        return (b, a, cb) if a < b else (a, b, ca)  # mutual: the smaller id survives
    if ca > threshold:
        return a, b, ca
    if cb > threshold:
        return b, a, cb
    return None


class _Shingle(beam.DoFn):
    def __init__(self, n: int, sample_mod: int):
        self.n = n
        self.sample_mod = sample_mod

    def process(self, doc: Document):
        hashes = shingles(doc.text, self.n, self.sample_mod)
        for h in hashes:
            yield h, (doc.id, len(hashes))


class _Pairs(beam.DoFn):
    def __init__(self, max_books: int):
        self.max_books = max_books

    def process(self, element):
        _, group = element
        distinct = set()
        for book in group:  # streamed: a hot shingle is given up on, never held whole
            distinct.add(book)
            if len(distinct) > self.max_books:
                beam.metrics.Metrics.counter("book_overlap", "shingles_skipped_too_common").inc()
                return
        books = sorted(distinct)
        for i in range(len(books)):
            a, na = books[i]
            for b, nb in books[i + 1:]:
                yield (a, na, b, nb), 1


class _Resolve(beam.DoFn):
    def process(self, element):
        _, grouped = element
        contained = next(iter(grouped["contained_in"]), None) is not None  # one verdict is enough
        for doc in grouped["doc"]:
            if contained:
                beam.metrics.Metrics.counter("book_overlap", "removed").inc()
                yield beam.pvalue.TaggedOutput(ev.EVENTS, ev.drop(doc.source, REASON, doc.nbytes))
            else:
                yield doc


class BookOverlapDedup(beam.PTransform):
    """books → (kept books, `book_overlap` drop events)."""

    def __init__(
        self,
        shingle_words: int = 5,  # words per shingle
        threshold: float = 0.9,  # drop a book more than this share of which is inside another
        sample_mod: int = 1,  # keep 1 shingle in sample_mod (by hash) to bound the shuffle
        max_books_per_shingle: int = 1000,  # a shingle in more books is boilerplate: skipped
        label=None,
    ):
        super().__init__(label)
        self.n = shingle_words
        self.threshold = threshold
        self.sample_mod = sample_mod
        self.max_books = max_books_per_shingle

    def expand(self, books):
        threshold = self.threshold
        intersections = (
            books
            | "Shingles" >> beam.ParDo(_Shingle(self.n, self.sample_mod))
            | "BooksPerShingle" >> beam.GroupByKey()
            | "PairsSharingShingle" >> beam.ParDo(_Pairs(self.max_books))
            | "CountShared" >> beam.CombinePerKey(sum)
        )
        contained = intersections | "Verdicts" >> beam.FlatMap(
            lambda kv: [(v[0], (v[2], v[1]))] if (v := verdict(kv[0][0], kv[0][1], kv[0][2], kv[0][3], kv[1], threshold)) else []
        )
        by_id = books | "KeyById" >> beam.Map(lambda d: (d.id, d))
        out = (
            {"doc": by_id, "contained_in": contained}
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "KeepOrDrop" >> beam.ParDo(_Resolve()).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, out[ev.EVENTS]
