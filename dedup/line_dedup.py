"""CCNet line dedup: every line whose normalised hash occurs in two or more documents of the dedup
scope is removed everywhere, its first occurrence included; a line repeated only inside one
document keeps its first copy there (cc_net's `dedup.py`: the hash set takes a document's hashes as
one batch, and `finalize_doc` drops a line's later copies within the document); empty lines go
too; a document left with no lines is dropped (`line_dedup_empty`).

Normalisation (cc_net `normalize_for_dedup`): strip, lowercase, every digit → "0", delete a fixed
set of Unicode punctuation and the control characters. Hash: the first 8 bytes of SHA-1 of the
UTF-8 line, read as a little-endian uint64. The Beam plan is `dedup.repeats` with lines as units.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np

from common.record import Document
from dedup.repeats import RemoveRepeatedUnits, hashes_of_bytes

# cc_net's UNICODE_PUNCT keys: deleted for dedup (cc_net maps them to ASCII for the LM instead).
UNICODE_PUNCT = "，。、„”“«»１」「《》´∶：？！（）；–—．～’…━〈〉【】％►"
# Control characters 0–31 and 127–159, but not "\n": whole documents are normalised at once and
# split afterwards, which gives the same lines as cc_net's per-line normalisation.
_CONTROL = [c for c in list(range(0, 32)) + list(range(127, 160)) if c != 10]
_DELETE = re.compile("[" + re.escape(UNICODE_PUNCT + "".join(map(chr, _CONTROL))) + "]")
_DIGIT = re.compile(r"\d")
_ASCII_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_ASCII_CONTROL = bytes(c for c in _CONTROL if c < 128)

REASON_EMPTY = "line_dedup_empty"


def normalize_line(line: str) -> str:
    """cc_net's dedup normalisation of one line."""
    return _DELETE.sub("", _DIGIT.sub("0", line.strip().lower()))


def normalized_line_bytes(text: str) -> List[bytes]:
    """The normalised form of each line of `text` as UTF-8 (same count and order as
    text.split('\\n')): the same lines as normalize_line, several times faster."""
    stripped = [line.strip() for line in text.split("\n")]  # per line first, as cc_net does
    # ASCII lines: lowercase, digits and control characters in one pass of C over the whole text
    # (bytes.lower() is ASCII-only, and ASCII bytes never occur inside a multi-byte character).
    raw = "\n".join(stripped).encode("utf-8", "surrogatepass").lower().translate(_ASCII_DIGITS, _ASCII_CONTROL)
    lines = raw.split(b"\n")
    if not raw.isascii():
        # The non-ASCII lines (still non-ASCII after the pass): cc_net's steps on their original
        # text, all of them in one string, newline-separated. Each step works per character or
        # stops at a newline (lower()'s final sigma looks no further than it), so this equals
        # normalize_line on each line, without a Python call and two regex scans per line.
        rest = [i for i, line in enumerate(lines) if not line.isascii()]
        joined = _DELETE.sub("", _DIGIT.sub("0", "\n".join([stripped[i] for i in rest]).lower()))
        for i, line in zip(rest, joined.encode("utf-8", "surrogatepass").split(b"\n")):
            lines[i] = line
    return lines


def normalized_lines(text: str) -> List[str]:
    """The normalised form of each line of `text` (same count and order as text.split('\\n'))."""
    return [line.decode("utf-8", "surrogatepass") for line in normalized_line_bytes(text)]


def line_hash(normalized: str) -> int:
    return int.from_bytes(hashlib.sha1(normalized.encode("utf-8")).digest()[:8], "little")


def line_hashes(text: str) -> Tuple[np.ndarray, np.ndarray]:
    """(hashes of the non-empty normalised lines as uint64, their line indices as uint32)."""
    lines = normalized_line_bytes(text)
    indices = [i for i, line in enumerate(lines) if line]
    return hashes_of_bytes([lines[i] for i in indices]), np.asarray(indices, dtype=np.uint32)


def dedup_in_memory(texts: List[str]) -> List[str]:
    """Reference semantics on a small list (tests, benchmarks): texts with repeated lines removed."""
    counts: Dict[int, int] = defaultdict(int)  # documents holding each hash
    per_doc = []
    for text in texts:
        hashes, idx = line_hashes(text)
        per_doc.append((hashes, idx))
        for h in set(hashes.tolist()):
            counts[h] += 1
    out = []
    for text, (hashes, idx) in zip(texts, per_doc):
        keep, seen = set(), set()
        for h, i in zip(hashes.tolist(), idx.tolist()):
            if counts[h] < 2 and h not in seen:
                keep.add(i)
            seen.add(h)
        out.append("\n".join(line for i, line in enumerate(text.split("\n")) if i in keep))
    return out


class LineUnits:
    """Lines as the units of `dedup.repeats`; `aux` is (indices of the non-empty lines, their
    hashes) as raw bytes: bytes cross the shuffle natively, numpy arrays would be pickled."""

    def units(self, text: str):
        hashes, nonempty = line_hashes(text)
        return hashes, nonempty, (nonempty.tobytes(), hashes.tobytes())

    def apply(self, doc: Document, aux, removed) -> Optional[Document]:
        """The document without its removed lines (None when none is left), with line counts and
        the digest of its kept lines in meta; one pass over the lines."""
        nonempty, hashes = np.frombuffer(aux[0], dtype=np.uint32), np.frombuffer(aux[1], dtype="<u8")
        if len(removed) and len(nonempty):
            # Both sorted: each line's place among the removed positions says whether it is one.
            at = np.minimum(np.searchsorted(removed, nonempty), len(removed) - 1)
            keep = removed[at] != nonempty
            nonempty, hashes = nonempty[keep], hashes[keep]
        if not len(nonempty):
            return None
        lines = doc.text.split("\n")
        text = "\n".join([lines[i] for i in nonempty.tolist()])
        return doc._replace(text=text).with_meta(
            original_nlines=len(lines), nlines=len(nonempty), original_length=len(doc.text),
            line_digest=content_digest(hashes))


def content_digest(kept_hashes: np.ndarray) -> str:
    """The document's content after line dedup, as cc_net-normalised lines: 32 hex of SHA-1 over
    the kept lines' hashes. Exact dedup keys on it, so the text is not normalised a second time."""
    return hashlib.sha1(kept_hashes.astype("<u8").tobytes()).hexdigest()[:32]


def line_digest_key(doc: Document) -> bytes:
    """Exact-dedup key of a document that went through line dedup (see `content_digest`)."""
    return bytes.fromhex(doc.meta["line_digest"])


class LineDedup(RemoveRepeatedUnits):
    """docs → (docs without repeated lines, `line_dedup_empty` drops). `scope_of(doc)` names the
    dedup scope ("global" by default; cc_net: the document's group of shards)."""

    def __init__(self, hash_shards: int = 64, doc_shards: int = 64, scope_of=None, label=None):
        super().__init__(LineUnits(), keep_first=False, empty_reason=REASON_EMPTY, hash_shards=hash_shards,
                         doc_shards=doc_shards, scope_of=scope_of, counter="line_dedup", keep_first_in_doc=True,
                         label=label)
