"""C4's corpus-wide dedup, in the two forms C4 is described by:

- `unit="line"` (`Lines`, the recipe's default): what TFDS `c4_utils.remove_duplicate_text` — the
  code that made the released C4 — does: every line (compared after `strip().lower()`) that occurs
  more than once in the corpus is kept in one page only, and a page's own repeats of a line go too.
  TFDS keeps the line in the page whose URL has the smallest MD5; here the smallest (document key,
  position), as below: another arbitrary but fixed choice.
- `unit="sentences"` (`SentenceSpans`): the paper's wording, "we discarded all but one of any
  three-sentence span occurring more than once in the data set" (Raffel et al. 2020, §2.2).

Units are the overlapping windows of `span` consecutive sentences of a document (sentences split
at terminal punctuation followed by whitespace, and at line ends), compared after lowercasing and
collapsing whitespace. Of each repeated span the first occurrence survives — the smallest
(document key, position), so the same whatever the runner's order — and every later occurrence
takes its sentences out of its document. Lines left without sentences go; a document left
empty is dropped (`c4_span_dedup_empty`). Documents with fewer than `span` sentences have no span.
The Beam plan is `dedup.repeats` with spans as units and `keep_first=True`.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

import numpy as np

from common.record import Document
from dedup.repeats import RemoveRepeatedUnits, hashes_of

REASON_EMPTY = "c4_span_dedup_empty"
_SENTENCE = re.compile(r".+?(?:[.!?]+[\"')\]]*(?=\s|$)|$)", re.S)
_WS = re.compile(r"\s+")


def sentences(text: str) -> List[Tuple[int, int, int]]:
    """(line index, start, end) of every sentence of every non-empty line."""
    out = []
    for li, line in enumerate(text.split("\n")):
        for m in _SENTENCE.finditer(line):
            start, end = m.start(), m.end()
            while start < end and line[start].isspace():
                start += 1
            if start < end:
                out.append((li, start, end))
    return out


class SentenceSpans:
    """Units for `dedup.repeats`: windows of `span` sentences; `aux`: the sentence boundaries
    (raw int64 bytes, which cross the shuffle without pickling)."""

    def __init__(self, span: int = 3):
        self.span = span

    def units(self, text: str):
        bounds = sentences(text)
        lines = text.split("\n")
        normalized = [_WS.sub(" ", lines[li][s:e]).strip().lower() for li, s, e in bounds]
        n = len(normalized) - self.span + 1
        spans = ["\x1f".join(normalized[j:j + self.span]) for j in range(max(n, 0))]
        return hashes_of(spans), np.arange(len(spans), dtype=np.uint32), np.asarray(bounds, dtype=np.int64).reshape(-1, 3).tobytes()

    def rebuild(self, text: str, bounds, removed) -> str:
        if not removed:
            return text
        gone = {j + k for j in removed for k in range(self.span)}
        lines = text.split("\n")
        kept: dict = {}
        for i, (li, s, e) in enumerate(np.frombuffer(bounds, dtype=np.int64).reshape(-1, 3).tolist()):
            if i not in gone:
                kept.setdefault(li, []).append(lines[li][s:e].strip())
        return "\n".join(" ".join(kept[li]) for li in sorted(kept))

    def apply(self, doc: Document, bounds, removed) -> Optional[Document]:
        text = self.rebuild(doc.text, bounds, set(removed.tolist()))
        if not text:
            return None
        return doc if text == doc.text else doc._replace(text=text)


class Lines:
    """Units for `dedup.repeats`: the lines of a text, compared stripped and lowercased (TFDS's
    `_hash_text(line.strip().lower())`); `aux` is empty (the text itself says where lines are)."""

    def units(self, text: str):
        lines = text.split("\n")
        return hashes_of([line.strip().lower() for line in lines]), np.arange(len(lines), dtype=np.uint32), b""

    def apply(self, doc: Document, aux, removed) -> Optional[Document]:
        if not len(removed):
            return doc
        removed = set(removed.tolist())
        text = "\n".join(line for i, line in enumerate(doc.text.split("\n")) if i not in removed)
        return doc._replace(text=text) if text else None


UNITS = ("line", "sentences")


class SpanDedup(RemoveRepeatedUnits):
    """docs → (docs without repeated lines or `span`-sentence spans, `c4_span_dedup_empty` drops)."""

    def __init__(self, span: int = 3, hash_shards: int = 64, doc_shards: int = 64, unit: str = "sentences", label=None):
        if unit not in UNITS:
            raise ValueError(f"c4.span_dedup.unit must be one of {UNITS}, got {unit!r}")
        splitter = Lines() if unit == "line" else SentenceSpans(span)
        super().__init__(splitter, keep_first=True, empty_reason=REASON_EMPTY, hash_shards=hash_shards,
                         doc_shards=doc_shards, counter="c4_span_dedup", label=label)
