"""MinHash signatures of word 5-gram shingles, computed for a batch of documents at once.

The definition (what a signature *is*) is written once as plain Python and reused by the tests:

1. `normalize_words(text)`: lowercase (`str.lower`), then every run of separators splits words.
   Separators are ASCII punctuation, control characters and whitespace (including `_`), Latin-1
   punctuation and symbols (U+00A0–U+00BF), General Punctuation (U+2000–U+206F: curly quotes,
   dashes, ellipsis, zero-width spaces) and CJK Symbols and Punctuation (U+3000–U+303F). Every
   other character (ASCII letters and digits, all other non-ASCII characters) belongs to a word.
2. `shingles(words, k)`: the word k-grams (k = 5 by default); a document with 1..k-1 words is a
   single shingle of all its words; a document without words has no shingles (never a candidate).
3. `shingle_hash(shingle)`: each word is hashed by Horner's rule over its UTF-8 bytes mod 2^64,
   then mixed; the k word hashes are combined by Horner's rule again and mixed; the shingle's hash
   is the top 32 bits.
4. Permutation i is x -> (a_i * x + b_i) mod 2^32 with odd a_i, a bijection on 32-bit values;
   a_i, b_i come from xxh64 of ("a", i) / ("b", i) under the recipe's seed, so they are the same
   on every machine and numpy version. Signature[i] = min over shingles of permutation i.

`MinHasher.signatures(texts)` computes exactly that, vectorised: the batch's text is lowered and
encoded once, bytes are classified with a lookup table, word hashes come from prefix sums of
byte * B^-j (so no per-word Python call), shingle hashes from shifted slices of the word-hash
array, and the permutations as an outer product over row chunks that stay in cache, reduced per
document with `np.minimum.reduceat`. The per-document Python work is `lower()` and `encode()`.

`MinHasher.sign(texts)` also returns each document's shingle *set* (its distinct 32-bit shingle
hashes, sorted), on which near-dedup confirms candidates by their true Jaccard (`set_jaccard`):
the signature only proposes. With 32-bit hashes two distinct shingles of a pair collide with
probability about 2^-32 each, so the set Jaccard equals the shingles' Jaccard except in a
vanishing fraction of pairs (`tests/test_neardup_minhash.py` compares it with the definition).

`band_hashes(signatures, bands, rows)` turns each band of `rows` values into one 64-bit bucket hash.
Banding S-curve: P(candidate | Jaccard s) = 1 - (1 - s^rows)^bands (`candidate_probability`).
"""
from __future__ import annotations

import re
from typing import List, Sequence, Tuple

import numpy as np
import xxhash

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1

# Odd 64-bit constants (digits of pi / golden ratio / MurmurHash3 fmix64); any odd values work.
BYTE_BASE = 0x243F6A8885A308D3
WORD_BASE = 0x9E3779B97F4A7C15
BAND_BASE = 0xC2B2AE3D27D4EB4F
LEN_MIX = 0x165667B19E3779F9
BYTE_BASE_INV = pow(BYTE_BASE, -1, 1 << 64)
_FMIX_M1 = 0xFF51AFD7ED558CCD
_FMIX_M2 = 0xC4CEB9FE1A85EC53

_SEPARATORS = re.compile("[\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f\u00a0-\u00bf\u2000-\u206f\u3000-\u303f]+")

# Bytes that can be part of a word; multi-byte punctuation is cleared separately (see _word_mask).
_WORD_BYTE = np.zeros(256, dtype=bool)
_WORD_BYTE[ord("0"):ord("9") + 1] = True
_WORD_BYTE[ord("A"):ord("Z") + 1] = True
_WORD_BYTE[ord("a"):ord("z") + 1] = True
_WORD_BYTE[0x80:] = True

# Byte buffers are processed in slices of about this size so temporaries stay small.
_SLICE_BYTES = 1 << 20
# Shingles per chunk of the (num_perm x shingles) uint32 matrix: 128 x 4096 x 4 B = 2 MiB.
_ROWS_PER_CHUNK = 4096


# ----------------------------------------------------------------------------- the definition

def normalize_words(text: str) -> List[str]:
    """Lowercased words of `text`, split at separator runs (the rule in the module docstring)."""
    return [w for w in _SEPARATORS.split(text.lower()) if w]


def shingles(words: Sequence[str], k: int = 5) -> List[Tuple[str, ...]]:
    """Word k-grams in order (with repeats); 1..k-1 words give one shingle; no words, none."""
    if not words:
        return []
    if len(words) < k:
        return [tuple(words)]
    return [tuple(words[i:i + k]) for i in range(len(words) - k + 1)]


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * _FMIX_M1) & MASK64
    h ^= h >> 33
    h = (h * _FMIX_M2) & MASK64
    return h ^ (h >> 33)


def word_hash(word: str) -> int:
    """64-bit hash of one normalised word (Horner over its UTF-8 bytes, length mixed in)."""
    data = word.encode("utf-8", "surrogatepass")
    h = 0
    for byte in data:
        h = (h * BYTE_BASE + byte) & MASK64
    return _fmix64_int((h + len(data) * LEN_MIX) & MASK64)


def shingle_hash(shingle: Sequence[str]) -> int:
    """32-bit hash of a shingle (a tuple of words): the value the permutations act on."""
    h = 0
    for word in shingle:
        h = (h * WORD_BASE + word_hash(word)) & MASK64
    return _fmix64_int((h + len(shingle) * LEN_MIX) & MASK64) >> 32


def permutations(num_perm: int, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """(a, b) uint32 arrays: permutation i is x -> a[i] * x + b[i] mod 2^32, a[i] odd."""
    a = [(xxhash.xxh64_intdigest(b"a%d" % i, seed) & MASK32) | 1 for i in range(num_perm)]
    b = [xxhash.xxh64_intdigest(b"b%d" % i, seed) & MASK32 for i in range(num_perm)]
    return np.array(a, dtype=np.uint32), np.array(b, dtype=np.uint32)


def reference_signature(text: str, num_perm: int, seed: int, k: int = 5) -> np.ndarray:
    """The signature by the definition, one shingle at a time (slow; for tests and docs)."""
    a, b = permutations(num_perm, seed)
    sig = np.full(num_perm, MASK32, dtype=np.uint32)
    for sh in set(shingles(normalize_words(text), k)):
        x = np.uint32(shingle_hash(sh))
        sig = np.minimum(sig, a * x + b)
    return sig


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Estimated Jaccard similarity: the fraction of permutations whose minima agree."""
    return float(np.mean(sig_a == sig_b))


def shingle_set_jaccard(text_a: str, text_b: str, k: int = 5) -> float:
    """True Jaccard of two texts' k-shingle sets, by the definition (slow; for tests and docs)."""
    sa, sb = (set(shingles(normalize_words(t), k)) for t in (text_a, text_b))
    return len(sa & sb) / len(sa | sb) if sa or sb else 0.0


def set_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two sorted arrays of distinct values (shingle sets from `MinHasher.sign`)."""
    if not len(a) or not len(b):
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    pos = np.searchsorted(b, a)
    pos[pos == len(b)] = 0
    inter = int(np.count_nonzero(b[pos] == a))
    return inter / (len(a) + len(b) - inter)


def candidate_probability(s: float, bands: int, rows: int) -> float:
    """P(two documents with Jaccard `s` share at least one of `bands` buckets of `rows` rows)."""
    return 1.0 - (1.0 - s ** rows) ** bands


def s_curve_midpoint(bands: int, rows: int) -> float:
    """The usual threshold estimate (1/bands)^(1/rows): where the S-curve is steepest."""
    return (1.0 / bands) ** (1.0 / rows)


# ----------------------------------------------------------------------------- vectorised

def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser on a uint64 array (wrapping arithmetic, in place)."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(_FMIX_M1)
    h ^= h >> np.uint64(33)
    h *= np.uint64(_FMIX_M2)
    h ^= h >> np.uint64(33)
    return h


class _Powers:
    """Growing tables of BYTE_BASE^j and BYTE_BASE^-j mod 2^64 (one per process)."""

    def __init__(self):
        self.fwd = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def ensure(self, n: int) -> None:
        if len(self.fwd) >= n:
            return
        n = max(n, 2 * len(self.fwd))
        fwd = np.ones(n, dtype=np.uint64)
        inv = np.ones(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.cumprod(np.full(n - 1, BYTE_BASE, dtype=np.uint64), out=fwd[1:])
            np.cumprod(np.full(n - 1, BYTE_BASE_INV, dtype=np.uint64), out=inv[1:])
        self.fwd, self.inv = fwd, inv


_POWERS = _Powers()


def _word_mask(buf: np.ndarray) -> np.ndarray:
    """True where a byte belongs to a word (the separator rule, applied to UTF-8 bytes)."""
    mask = _WORD_BYTE[buf]
    n = len(buf)
    if n < 2:
        return mask
    b0, b1 = buf[:-1], buf[1:]
    # U+00A0..U+00BF = C2 A0..C2 BF
    two = np.flatnonzero((b0 == 0xC2) & (b1 >= 0xA0))
    mask[two] = False
    mask[two + 1] = False
    if n >= 3:
        b2 = buf[2:]
        b0, b1 = buf[:-2], buf[1:-1]
        # U+2000..U+206F = E2 80 80..E2 81 AF ; U+3000..U+303F = E3 80 80..E3 80 BF
        three = np.flatnonzero(((b0 == 0xE2) & ((b1 == 0x80) | ((b1 == 0x81) & (b2 <= 0xAF))))
                               | ((b0 == 0xE3) & (b1 == 0x80)))
        mask[three] = False
        mask[three + 1] = False
        mask[three + 2] = False
    return mask


def _word_hashes(buf: np.ndarray, mask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(start offsets, 64-bit hashes) of the words in `buf`, equal to `word_hash` of each word.

    Horner's rule over bytes s..e-1 is sum(byte_j * B^(e-1-j)) = B^(e-1) * sum(byte_j * B^-j),
    so one prefix sum of byte_j * B^-j per slice gives every word's hash with no Python loop.
    """
    edges = np.diff(mask.view(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    hashes = np.empty(len(starts), dtype=np.uint64)
    done = 0  # words hashed so far
    pos = 0
    n = len(buf)
    while done < len(starts):
        # A slice of about _SLICE_BYTES that ends at a word end, so no word is split.
        last = int(np.searchsorted(ends, min(pos + _SLICE_BYTES, n), side="right")) - 1
        last = max(last, done)
        lo, hi = int(starts[done]), int(ends[last])
        _POWERS.ensure(hi - lo + 1)
        with np.errstate(over="ignore"):
            c = buf[lo:hi].astype(np.uint64) * _POWERS.inv[: hi - lo]
            prefix = np.zeros(hi - lo + 1, dtype=np.uint64)
            np.cumsum(c, out=prefix[1:])
            s, e = starts[done:last + 1] - lo, ends[done:last + 1] - lo
            h = (prefix[e] - prefix[s]) * _POWERS.fwd[e - 1]
            h += (e - s).astype(np.uint64) * np.uint64(LEN_MIX)
            hashes[done:last + 1] = _fmix64(h)
        done = last + 1
        pos = hi
    return starts, hashes


class MinHasher:
    """Signatures for batches of texts. Holds only the permutation parameters (no corpus state)."""

    def __init__(self, num_perm: int = 112, seed: int = 42, shingle_size: int = 5):
        if num_perm < 1 or shingle_size < 1:
            raise ValueError("num_perm and shingle_size must be positive")
        self.num_perm = num_perm
        self.seed = seed
        self.k = shingle_size
        self.a, self.b = permutations(num_perm, seed)
        _POWERS.ensure(_SLICE_BYTES + 1)  # once per process (16 MiB), not inside a timed batch

    def shingle_hashes(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(document index, 32-bit shingle hash) for every shingle of the batch, in document order."""
        encoded = [t.lower().encode("utf-8", "surrogatepass") for t in texts]
        # One space between documents: a separator, so no word spans two documents.
        doc_offsets = np.zeros(len(encoded), dtype=np.int64)
        if encoded:
            np.cumsum([len(e) + 1 for e in encoded[:-1]], out=doc_offsets[1:])
        buf = np.frombuffer(b" ".join(encoded), dtype=np.uint8)
        starts, wh = _word_hashes(buf, _word_mask(buf))
        word_doc = np.searchsorted(doc_offsets, starts, side="right") - 1
        k = self.k
        docs_out, hashes_out = [], []
        m = len(wh) - k + 1
        if m > 0:
            with np.errstate(over="ignore"):
                acc = wh[:m].copy()
                for t in range(1, k):
                    acc *= np.uint64(WORD_BASE)
                    acc += wh[t:m + t]
                acc += np.uint64(k * LEN_MIX)
            full = word_doc[:m] == word_doc[k - 1:]
            docs_out.append(word_doc[:m][full])
            hashes_out.append((_fmix64(acc[full]) >> np.uint64(32)).astype(np.uint32))
        # Documents with 1..k-1 words: one shingle of all their words.
        counts = np.bincount(word_doc, minlength=len(texts)) if len(wh) else np.zeros(len(texts), np.int64)
        first = np.concatenate(([0], np.cumsum(counts)[:-1])) if len(texts) else counts
        for d in np.flatnonzero((counts > 0) & (counts < k)):
            h = 0
            for w in wh[first[d]:first[d] + counts[d]]:
                h = (h * WORD_BASE + int(w)) & MASK64
            docs_out.append(np.array([d], dtype=np.int64))
            hashes_out.append(np.array([_fmix64_int((h + int(counts[d]) * LEN_MIX) & MASK64) >> 32], np.uint32))
        if not docs_out:
            return np.zeros(0, np.int64), np.zeros(0, np.uint32)
        doc_idx = np.concatenate(docs_out)
        hashes = np.concatenate(hashes_out)
        order = np.argsort(doc_idx, kind="stable")
        return doc_idx[order], hashes[order]

    def signatures(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
        """(signatures uint32 [len(texts), num_perm], has_shingles bool [len(texts)]).

        A text without words keeps the all-0xFFFFFFFF signature and has_shingles False.
        """
        return self._signatures(len(texts), *self.shingle_hashes(texts))

    def sign(self, texts: Sequence[str]) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(signatures, has_shingles, offsets int64 [len(texts) + 1], shingle sets uint32): document i's
        distinct shingle hashes, sorted, are `sets[offsets[i]:offsets[i + 1]]`."""
        doc_idx, x = self.shingle_hashes(texts)
        with np.errstate(over="ignore"):
            keys = np.unique((doc_idx.astype(np.uint64) << np.uint64(32)) | x.astype(np.uint64))
        docs = (keys >> np.uint64(32)).astype(np.int64)
        sets = (keys & np.uint64(MASK32)).astype(np.uint32)
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(docs, minlength=len(texts)), out=offsets[1:])
        sigs, has = self._signatures(len(texts), docs, sets)  # the minimum over a set = over its multiset
        return sigs, has, offsets, sets

    def _signatures(self, n: int, doc_idx: np.ndarray, x: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        sig = np.full((n, self.num_perm), MASK32, dtype=np.uint32)
        for lo in range(0, len(x), _ROWS_PER_CHUNK):
            hi = min(lo + _ROWS_PER_CHUNK, len(x))
            # (num_perm, shingles) layout: reduceat then runs along contiguous memory.
            perm = np.multiply.outer(self.a, x[lo:hi])
            perm += self.b[:, None]
            d = doc_idx[lo:hi]
            seg = np.flatnonzero(np.diff(d, prepend=-1))  # first column of each document in the chunk
            docs = d[seg]
            sig[docs] = np.minimum(sig[docs], np.minimum.reduceat(perm, seg, axis=1).T)
        has = np.zeros(n, dtype=bool)
        has[doc_idx] = True
        return sig, has


def band_hashes(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 [n, bands]: bucket hash of each band (Horner over the band's values, then mixed)."""
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands*rows = {bands * rows} exceeds num_perm = {sigs.shape[1]}")
    view = sigs[:, : bands * rows].reshape(len(sigs), bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        h = np.zeros((len(sigs), bands), dtype=np.uint64)
        for t in range(rows):
            h *= np.uint64(BAND_BASE)
            h += view[:, :, t]
        return _fmix64(h)
