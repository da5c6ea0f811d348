"""Book-level dedup by shingle containment, through the runner's shuffle.

LLaMA removes a book whose content overlaps another's by more than 90%. Overlap here is
*containment*: with S(X) the set of word n-gram shingles of book X,

    containment(A in B) = |S(A) ∩ S(B)| / |S(A)|

and A is dropped when containment(A in B) > threshold for some other book B. When both books are
contained in each other (near-identical copies), the one with the larger id is dropped, so the
survivor is the smaller id whatever order the runner delivers things in. (RP1's SimHash with a
Hamming distance is not an overlap measure; this is.)

Shingles shared by more than `max_books_per_shingle` books are boilerplate (licence texts,
tables of contents) and skipped — on both sides of the ratio: S(X) above is X's shingles less the
skipped ones, so a book is never measured against a denominator that holds shingles its numerator
could not count (that would understate containment by the book's share of boilerplate).

The graph, with no corpus-wide state in any worker:
  book → its distinct shingles (optionally a hash-based 1-in-`sample_mod` sample: the same
  shingles are sampled in every book, so the estimate of |A∩B| is unbiased)
  → GroupByKey(shingle) → for a shingle in at most `max_books_per_shingle` books: each of them
  (→ CombinePerKey(sum) = |S(X)|, its counted shingles) and every pair of them
  (→ CombinePerKey(sum) = |S(A)∩S(B)|); a more common shingle is skipped, counted
  → two joins on the pair's ids attach |S(A)| and |S(B)| → verdicts → CoGroupByKey with the books
  on id → kept books and drop events.
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
        for h in shingles(doc.text, self.n, self.sample_mod):
            yield h, doc.id


SIZES = "sizes"


class _Pairs(beam.DoFn):
    """(shingle, [book ids]) → ((a, b), 1) for each pair a < b of its books, and (SIZES, (id, 1)) for
    each of them; nothing for a shingle in more than `max_books` books."""

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
        for i, a in enumerate(books):
            yield beam.pvalue.TaggedOutput(SIZES, (a, 1))
            for b in books[i + 1:]:
                yield (a, b), 1


def _attach_size(element, first: bool):
    """Join step: (id, {pairs, size}) → the pairs with that id's counted shingles attached."""
    _, grouped = element
    size = next(iter(grouped["size"]), 0)
    for value in grouped["pairs"]:
        if first:  # value = (b, inter), the key is a
            b, inter = value
            yield b, (element[0], size, inter)
        else:  # value = (a, na, inter), the key is b
            a, na, inter = value
            yield a, na, element[0], size, inter


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
        shared = (
            books
            | "Shingles" >> beam.ParDo(_Shingle(self.n, self.sample_mod))
            | "BooksPerShingle" >> beam.GroupByKey()
            # Output types named: Beam's inference would fold the tagged sizes into the pairs' type.
            | "PairsSharingShingle" >> beam.ParDo(_Pairs(self.max_books)).with_output_types(
                Tuple[Tuple[str, str], int]).with_outputs(SIZES, main="pairs")
        )
        sizes = shared[SIZES] | "CountedShingles" >> beam.CombinePerKey(sum)
        intersections = shared.pairs | "CountShared" >> beam.CombinePerKey(sum)
        with_a = (
            {"pairs": intersections | "KeyByA" >> beam.Map(lambda kv: (kv[0][0], (kv[0][1], kv[1]))), "size": sizes}
            | "JoinSizeA" >> beam.CoGroupByKey()
            | "AttachA" >> beam.FlatMap(_attach_size, first=True)
        )
        with_both = (
            {"pairs": with_a, "size": sizes}
            | "JoinSizeB" >> beam.CoGroupByKey()
            | "AttachB" >> beam.FlatMap(_attach_size, first=False)
        )
        contained = with_both | "Verdicts" >> beam.FlatMap(
            lambda r: [(v[0], (v[2], v[1]))] if (v := verdict(*r, threshold)) else []
        )
        by_id = books | "KeyById" >> beam.Map(lambda d: (d.id, d))
        out = (
            {"doc": by_id, "contained_in": contained}
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "KeepOrDrop" >> beam.ParDo(_Resolve()).with_outputs(ev.EVENTS, main="docs")
        )
        return out.docs, out[ev.EVENTS]
