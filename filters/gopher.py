"""Gopher's quality and repetition rules (Rae et al. 2021, arXiv 2112.11446, §A.1.1 and Table A1),
as datatrove implements them (`pipeline/filters/gopher_quality_filter.py`,
`gopher_repetition_filter.py`, whose constructor defaults are the thresholds cited below).

`gopher_stats(text)` measures everything once (a NamedTuple, every value whether or not the page
passes); `GopherRules.reason(stats)` compares with the thresholds and names the first rule broken,
in datatrove's order (repetition first, as FineWeb runs them, then quality):

Repetition (fractions of the page's characters unless said otherwise; drop when above):
- `gopher_dup_para_frac` (datatrove `dup_para_frac=0.3`): paragraphs (split at 2+ newlines) that
  repeat an earlier one / all paragraphs; `gopher_dup_para_char_frac` (0.2): their characters;
- `gopher_dup_line_frac` (`dup_line_frac=0.3`): lines (split at newlines) repeating an earlier
  one / all lines; `gopher_dup_line_char_frac` (0.2): their characters;
- `gopher_top_ngram:N` (`top_n_grams=((2, 0.2), (3, 0.18), (4, 0.16))`): characters of the most
  frequent word N-gram (words joined by spaces) × its count;
- `gopher_dup_ngram:N` (`dup_n_grams=((5, 0.15), … (10, 0.10))`): characters in repeated word
  N-grams, scanned left to right, a repeat skipping its N words (datatrove's count; its N-grams
  are words concatenated without separator, here word tuples: the same except where two
  different splits concatenate alike, e.g. ("ab", "c") and ("a", "bc")).
Quality:
- `gopher_too_few_words` / `gopher_too_many_words` (`min_doc_words=50`, `max_doc_words=100000`):
  words, i.e. tokens that are not punctuation only;
- `gopher_short_words` / `gopher_long_words` (`min_avg_word_length=3`, `max_avg_word_length=10`):
  their mean length in characters;
- `gopher_hash_ratio` / `gopher_ellipsis_ratio` (`max_symbol_word_ratio=0.1`): "#" and
  "..."/"…" occurrences per token (tokens include punctuation, as in datatrove);
- `gopher_bullet_lines` (`max_bullet_lines_ratio=0.9`): lines starting with "•" or "-" after
  leading space; `gopher_ellipsis_lines` (`max_ellipsis_lines_ratio=0.3`): lines ending with an
  ellipsis;
- `gopher_alpha_words` (`max_non_alpha_words_ratio=0.8`, a minimum despite its name): share of
  tokens holding an alphabetic character;
- `gopher_stop_words` (`min_stop_words=2`, `STOP_WORDS`): distinct stop words present (case
  sensitive, as datatrove); datatrove calls this reason `gopher_enough_stop_words`.

Words: datatrove splits English with spaCy's tokenizer (~0.4 MB/s here); `words(text)`
(`filters/word_tokens.py`) follows spaCy's procedure and English rules (affixes, infixes, special
cases, URLs) and keeps each distinct whitespace-separated chunk's split (~25 MB/s once warm). On
the 555 real pages of tests/reference/dump_pages.py its tokens equal spaCy's on 554 (an earlier
regular expression split infix punctuation, "Covid-19", "flask==1.0.3", "/tmp", where spaCy does
not, and lowered the alphabetic share on 72% of pages, always toward dropping).
"Punctuation only" is by Unicode category (P*, Sm, Sc, Sk and controls) instead of datatrove's
hand-made table: "‘" or "€" count as punctuation here, a word there.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from itertools import accumulate
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np

from filters.word_tokens import words  # noqa: F401  (the rules' tokens; re-exported for callers)

_SYMBOL_CATEGORIES = frozenset({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "Cc"})
_PARAGRAPH_SPLIT = re.compile(r"\n{2,}")
_LINE_SPLIT = re.compile(r"\n+")

# datatrove gopher_quality_filter.STOP_WORDS (Gopher's list).
STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)

REASON_DUP_PARA_FRAC = "gopher_dup_para_frac"
REASON_DUP_PARA_CHAR_FRAC = "gopher_dup_para_char_frac"
REASON_DUP_LINE_FRAC = "gopher_dup_line_frac"
REASON_DUP_LINE_CHAR_FRAC = "gopher_dup_line_char_frac"
REASON_TOP_NGRAM = "gopher_top_ngram"  # :N
REASON_DUP_NGRAM = "gopher_dup_ngram"  # :N
REASON_TOO_FEW_WORDS = "gopher_too_few_words"
REASON_TOO_MANY_WORDS = "gopher_too_many_words"
REASON_SHORT_WORDS = "gopher_short_words"
REASON_LONG_WORDS = "gopher_long_words"
REASON_HASH_RATIO = "gopher_hash_ratio"
REASON_ELLIPSIS_RATIO = "gopher_ellipsis_ratio"
REASON_BULLET_LINES = "gopher_bullet_lines"
REASON_ELLIPSIS_LINES = "gopher_ellipsis_lines"
REASON_ALPHA_WORDS = "gopher_alpha_words"
REASON_STOP_WORDS = "gopher_stop_words"


def is_symbol(token: str) -> bool:
    return all(unicodedata.category(ch) in _SYMBOL_CATEGORIES for ch in token)


# token → (punctuation only, holds a letter): most tokens recur, so each is classified once per
# process; bounded so that a long run's vocabulary cannot grow it without end.
_KINDS: Dict[str, tuple] = {}
_KINDS_MAX = 500_000


def _kind(token: str) -> tuple:
    kind = _KINDS.get(token)
    if kind is None:
        if len(_KINDS) >= _KINDS_MAX:
            _KINDS.clear()
        kind = _KINDS[token] = (is_symbol(token), token.isalpha() or any(ch.isalpha() for ch in token))
    return kind


class GopherStats(NamedTuple):
    # quality
    token_count: int  # tokens, punctuation included
    word_count: int  # tokens that are not punctuation only
    mean_word_length: float
    hash_ratio: float  # "#" per token
    ellipsis_ratio: float  # "..." and "…" per token
    bullet_lines_ratio: float
    ellipsis_lines_ratio: float
    alpha_words_ratio: float  # tokens holding a letter / tokens
    stop_words: int  # distinct stop words present
    # repetition
    dup_para_frac: float
    dup_para_char_frac: float
    dup_line_frac: float
    dup_line_char_frac: float
    top_2_gram_frac: float
    top_3_gram_frac: float
    top_4_gram_frac: float
    dup_5_gram_frac: float
    dup_6_gram_frac: float
    dup_7_gram_frac: float
    dup_8_gram_frac: float
    dup_9_gram_frac: float
    dup_10_gram_frac: float


def duplicates(items: Sequence[str]) -> tuple:
    """(items equal to an earlier item, their characters)."""
    seen = set()
    n = chars = 0
    for item in items:
        if item in seen:
            n += 1
            chars += len(item)
        else:
            seen.add(item)
    return n, chars


def ngram_shares_plain(tokens: List[str], size: int) -> tuple:
    """The top and duplicate n-gram character shares as datatrove computes them, word tuples for
    its joined strings (the reference for `ngram_shares`; tests hold the two equal)."""
    prefix = [0, *accumulate(map(len, tokens))]
    tops = []
    for n in TOP_NGRAMS:
        counts = Counter(zip(*(tokens[i:] for i in range(n))))
        if not counts:
            tops.append(0.0)
            continue
        gram, count = counts.most_common(1)[0]  # a tie: the n-gram met first
        tops.append((sum(map(len, gram)) + n - 1) * count / size)
    dups = []
    for n in DUP_NGRAMS:
        grams = list(zip(*(tokens[i:] for i in range(n))))
        seen = set()
        repeated = i = 0
        while i < len(grams):
            if grams[i] in seen:  # a repeat: counted, and its n words jumped (not remembered)
                repeated += prefix[i + n] - prefix[i]
                i += n
            else:
                seen.add(grams[i])
                i += 1
        dups.append(repeated / size)
    return (*tops, *dups)


def ngram_shares(tokens: List[str], size: int) -> tuple:
    """`ngram_shares_plain`, fast. Every n-gram gets an exact integer id, built up one word at a
    time ((id of its first n-1 words, id of its last word) ranked by np.unique), so counting and
    first occurrences are numpy work; the left-to-right scan for repeats then walks only the
    positions whose n-gram occurred before (~6% on web pages): a position's n-gram is
    remembered iff its first occurrence was visited, or a later visited occurrence of it was."""
    shares = [0.0] * (len(TOP_NGRAMS) + len(DUP_NGRAMS))
    length = len(tokens)
    if length < 2:
        return tuple(shares)
    word_id = dict(zip(tokens, range(length)))
    words_ = np.fromiter(map(word_id.__getitem__, tokens), dtype=np.int64, count=length)
    prefix = np.concatenate(([0], np.cumsum(np.fromiter(map(len, tokens), dtype=np.int64, count=length))))
    ids = words_
    for n in range(2, DUP_NGRAMS[-1] + 1):
        if length < n:
            break
        pairs = ids[:-1] * length + words_[n - 1:]
        _, first_index, ids, counts = np.unique(pairs, return_index=True, return_inverse=True, return_counts=True)
        top = int(counts.max())
        if n in TOP_NGRAMS:
            pos = int(first_index[counts == top].min())
            shares[TOP_NGRAMS.index(n)] = (int(prefix[pos + n] - prefix[pos]) + n - 1) * top / size
        elif n in DUP_NGRAMS:
            if top == 1:
                break  # no repeated n-gram: no repeated longer one either
            firsts = first_index[ids]
            repeats = np.flatnonzero(firsts != np.arange(len(ids)))
            skipped = bytearray(len(ids))
            remembered = set()
            repeated = i = 0
            for c, first, gram in zip(repeats.tolist(), firsts[repeats].tolist(), ids[repeats].tolist()):
                if c < i:
                    continue  # inside the jump of a repeat
                if not skipped[first] or gram in remembered:
                    repeated += int(prefix[c + n] - prefix[c])
                    i = c + n
                    skipped[c + 1:c + n] = b"\x01" * (n - 1)
                else:
                    remembered.add(gram)
                    i = c + 1
            shares[len(TOP_NGRAMS) + DUP_NGRAMS.index(n)] = repeated / size
    return tuple(shares)


def repetition_stats(text: str, tokens: List[str]) -> tuple:
    size = len(text) or 1
    paragraphs = _PARAGRAPH_SPLIT.split(text.strip())
    para_dups, para_chars = duplicates(paragraphs)
    lines = _LINE_SPLIT.split(text)
    line_dups, line_chars = duplicates(lines)
    return (para_dups / len(paragraphs), para_chars / size, line_dups / len(lines), line_chars / size,
            *ngram_shares(tokens, size))


def quality_stats(text: str, tokens: List[str]) -> tuple:
    n_tokens = len(tokens)
    n_words = word_chars = alpha = 0
    for token, count in Counter(tokens).items():
        symbol, has_alpha = _kind(token)
        if not symbol:
            n_words += count
            word_chars += len(token) * count
        if has_alpha:
            alpha += count
    present = set(tokens)
    stop = sum(1 for w in STOP_WORDS if w in present)
    lines = text.splitlines()
    n_lines = len(lines) or 1
    bullets = ellipsis_lines = 0
    for line in lines:
        head = line.lstrip()[:1]
        if head == "•" or head == "-":
            bullets += 1
        tail = line.rstrip()
        if tail.endswith("...") or tail.endswith("…"):
            ellipsis_lines += 1
    per_token = n_tokens or 1
    return (n_tokens, n_words, word_chars / n_words if n_words else 0.0, text.count("#") / per_token,
            (text.count("...") + text.count("…")) / per_token, bullets / n_lines, ellipsis_lines / n_lines,
            alpha / per_token, stop)


def gopher_stats(text: str, tokens: Optional[List[str]] = None) -> GopherStats:
    """Every Gopher measure of one page (`tokens`: `words(text)`, when the caller has them)."""
    if tokens is None:
        tokens = words(text)
    return GopherStats(*quality_stats(text, tokens), *repetition_stats(text, tokens))


class GopherRules:
    """GopherStats → None (keep) or the first rule broken; thresholds from the recipe
    (`gopher.json`), defaults datatrove's."""

    def __init__(
        self,
        quality: bool = True,  # run the quality rules
        repetition: bool = True,  # run the repetition rules
        min_doc_words: int = 50,
        max_doc_words: int = 100_000,
        min_avg_word_length: float = 3,
        max_avg_word_length: float = 10,
        max_symbol_word_ratio: float = 0.1,  # "#" and ellipses per token, each
        max_bullet_lines_ratio: float = 0.9,
        max_ellipsis_lines_ratio: float = 0.3,
        min_alpha_words_ratio: float = 0.8,
        min_stop_words: int = 2,
        dup_para_frac: float = 0.3,
        dup_para_char_frac: float = 0.2,
        dup_line_frac: float = 0.3,
        dup_line_char_frac: float = 0.2,
        top_n_grams: Optional[Dict[str, float]] = None,  # {"2": 0.2, "3": 0.18, "4": 0.16}
        dup_n_grams: Optional[Dict[str, float]] = None,  # {"5": 0.15, … "10": 0.10}
    ):
        self.quality = quality
        self.repetition = repetition
        self.min_doc_words = min_doc_words
        self.max_doc_words = max_doc_words
        self.min_avg_word_length = min_avg_word_length
        self.max_avg_word_length = max_avg_word_length
        self.max_symbol_word_ratio = max_symbol_word_ratio
        self.max_bullet_lines_ratio = max_bullet_lines_ratio
        self.max_ellipsis_lines_ratio = max_ellipsis_lines_ratio
        self.min_alpha_words_ratio = min_alpha_words_ratio
        self.min_stop_words = min_stop_words
        self.dup_para_frac = dup_para_frac
        self.dup_para_char_frac = dup_para_char_frac
        self.dup_line_frac = dup_line_frac
        self.dup_line_char_frac = dup_line_char_frac
        top = top_n_grams if top_n_grams is not None else {"2": 0.2, "3": 0.18, "4": 0.16}
        dup = dup_n_grams if dup_n_grams is not None else {str(n): round(0.2 - n / 100, 2) for n in DUP_NGRAMS}
        for name, given, known in (("top_n_grams", top, TOP_NGRAMS), ("dup_n_grams", dup, DUP_NGRAMS)):
            unknown = sorted(set(given) - {str(n) for n in known})
            if unknown:
                raise ValueError(f"gopher {name}: no measure for n={unknown}; measured: {list(known)}")
        self.top = [(int(n), float(v), GopherStats._fields.index(f"top_{n}_gram_frac")) for n, v in sorted(top.items(), key=lambda kv: int(kv[0]))]
        self.dup = [(int(n), float(v), GopherStats._fields.index(f"dup_{n}_gram_frac")) for n, v in sorted(dup.items(), key=lambda kv: int(kv[0]))]

    @classmethod
    def from_config(cls, cfg: dict) -> "GopherRules":
        q, r = cfg["quality"], cfg["repetition"]
        return cls(quality=q["enabled"], repetition=r["enabled"],
                   **{k: v for k, v in q.items() if k != "enabled" and not k.startswith("_")},
                   **{k: v for k, v in r.items() if k != "enabled" and not k.startswith("_")})

    def reason(self, s: GopherStats) -> Optional[str]:
        if self.repetition:
            if s.dup_para_frac > self.dup_para_frac:
                return REASON_DUP_PARA_FRAC
            if s.dup_para_char_frac > self.dup_para_char_frac:
                return REASON_DUP_PARA_CHAR_FRAC
            if s.dup_line_frac > self.dup_line_frac:
                return REASON_DUP_LINE_FRAC
            if s.dup_line_char_frac > self.dup_line_char_frac:
                return REASON_DUP_LINE_CHAR_FRAC
            for n, limit, field in self.top:
                if s[field] > limit:
                    return f"{REASON_TOP_NGRAM}:{n}"
            for n, limit, field in self.dup:
                if s[field] > limit:
                    return f"{REASON_DUP_NGRAM}:{n}"
        if self.quality:
            if s.word_count < self.min_doc_words:
                return REASON_TOO_FEW_WORDS
            if s.word_count > self.max_doc_words:
                return REASON_TOO_MANY_WORDS
            if s.mean_word_length < self.min_avg_word_length:
                return REASON_SHORT_WORDS
            if s.mean_word_length > self.max_avg_word_length:
                return REASON_LONG_WORDS
            if s.hash_ratio > self.max_symbol_word_ratio:
                return REASON_HASH_RATIO
            if s.ellipsis_ratio > self.max_symbol_word_ratio:
                return REASON_ELLIPSIS_RATIO
            if s.bullet_lines_ratio > self.max_bullet_lines_ratio:
                return REASON_BULLET_LINES
            if s.ellipsis_lines_ratio > self.max_ellipsis_lines_ratio:
                return REASON_ELLIPSIS_LINES
            if s.alpha_words_ratio < self.min_alpha_words_ratio:
                return REASON_ALPHA_WORDS
            if s.stop_words < self.min_stop_words:
                return REASON_STOP_WORDS
        return None
