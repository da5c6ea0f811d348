"""FineWeb's line-level quality rules (Penedo et al. 2024, arXiv 2406.17557 §3.3; datatrove
`pipeline/filters/fineweb_quality_filter.py`, whose constructor defaults are the thresholds cited).

Lines are the page's non-blank lines (split at "\\n"). `fineweb_stats(text)` measures once,
`FineWebRules.reason(stats)` names the first rule broken, in datatrove's order:
- `fineweb_empty`: no non-blank line;
- `fineweb_line_punct_ratio` (`line_punct_thr=0.12`; `line_punct_exclude_zero=False`): share of
  lines whose last character is sentence-terminal punctuation, drop when below;
- `fineweb_short_line_ratio` (`short_line_thr=0.67`, `short_line_length=30`): share of lines of
  at most 30 characters, drop when above;
- `fineweb_char_dup_ratio` (`char_duplicates_ratio=0.01`): characters of lines repeating an
  earlier line / the page's characters other than newlines, drop when above;
- `fineweb_list_ratio` (`new_line_ratio=0.3`): newlines per word token, drop when above (list-like
  pages: menus, link lists).
Terminal punctuation: datatrove's `TERMINAL_PUNCTUATION` table is Unicode's Sentence_Terminal
property; here the same property, read from the Unicode data of the `regex` package. Word tokens:
`filters.gopher.words` (see there for how it stands against datatrove's spaCy split).

Before these rules FineWeb runs C4's line rules with datatrove's defaults (`FineWebC4`,
`fineweb.c4` in the recipe; reasons `fineweb_c4_*`), which also rewrite the page: the rules above
measure the lines it keeps. On the 555 real pages of tests/reference/dump_pages.py its decisions
and the text it keeps equal datatrove's `C4QualityFilter(filter_no_terminal_punct=False)` on all.
"""
from __future__ import annotations

import unicodedata
from itertools import compress
from typing import Dict, FrozenSet, List, NamedTuple, Optional, Sequence

from filters.c4_rules import CITATION, POLICY_PHRASES
from filters.gopher import duplicates, words
from filters.word_tokens import chunk_words

REASON_EMPTY = "fineweb_empty"
REASON_LINE_PUNCT_RATIO = "fineweb_line_punct_ratio"
REASON_SHORT_LINE_RATIO = "fineweb_short_line_ratio"
REASON_CHAR_DUP_RATIO = "fineweb_char_dup_ratio"
REASON_LIST_RATIO = "fineweb_list_ratio"
REASON_C4_LOREM_IPSUM = "fineweb_c4_lorem_ipsum"
REASON_C4_CURLY_BRACKET = "fineweb_c4_curly_bracket"
REASON_C4_TOO_FEW_SENTENCES = "fineweb_c4_too_few_sentences"


def _sentence_terminals() -> FrozenSet[str]:
    import regex

    # One pass over the code points a sentence can end with is cheap (~0.1 s once per process).
    return frozenset(regex.findall(r"\p{Sentence_Terminal}", "".join(map(chr, range(0x20, 0x30000)))))


TERMINAL_PUNCTUATION = _sentence_terminals()


class FineWebC4:
    """FineWeb's C4 step: datatrove's `C4QualityFilter(filter_no_terminal_punct=False)`, run by
    its `examples/fineweb.py` between Gopher quality and FineWeb quality. C4's line rules with
    datatrove's defaults, which are not TFDS's (`filters/c4_rules.py` holds those): per line
    (`str.splitlines`, stripped), in datatrove's order:
    - a whitespace-separated word longer than `max_word_length` (1000): the line goes;
    - citation markers ("[1]", "[edit]", "[citation needed]") cut out;
    - no terminal-punctuation rule (`filter_no_terminal_punct=False`: menus, headings, list items
      stay);
    - fewer than `min_words_per_line` (3) words, counted before the citations were cut (as
      datatrove): the line goes;
    - "lorem ipsum": the page goes (`fineweb_c4_lorem_ipsum`); "javascript": the line goes;
      "{": the page goes (`fineweb_c4_curly_bracket`); a terms/privacy/cookie policy phrase: the
      line goes;
    then fewer than `min_sentences` (5) sentences in the kept lines drops the page
    (`fineweb_c4_too_few_sentences`; datatrove's own default, C4's TFDS code said 3). Sentences:
    per kept line, as spaCy's sentencizer cuts them (datatrove's English sentence splitter): a new
    sentence starts at the first token after a sentence-terminal one (Unicode Sentence_Terminal,
    of which spaCy's list is a subset) that is not punctuation itself; tokens are
    `filters.gopher.words`. The page's text becomes its kept lines joined by newlines.
    """

    def __init__(self, min_words_per_line: int = 3, min_sentences: int = 5, max_word_length: int = 1000,
                 remove_citations: bool = True, filter_lorem_ipsum: bool = True, filter_javascript: bool = True,
                 filter_curly_bracket: bool = True, filter_policy: bool = True):
        self.min_words_per_line = min_words_per_line  # fewer words: the line goes (datatrove 3)
        self.min_sentences = min_sentences  # fewer sentences kept: the page goes (datatrove 5)
        self.max_word_length = max_word_length  # a longer word: the line goes
        self.remove_citations = remove_citations  # cut "[1]", "[edit]", "[citation needed]"
        self.filter_lorem_ipsum = filter_lorem_ipsum  # drop pages with placeholder text
        self.filter_javascript = filter_javascript  # drop lines mentioning javascript
        self.filter_curly_bracket = filter_curly_bracket  # drop pages with "{" (code)
        self.filter_policy = filter_policy  # drop terms/privacy/cookie policy lines

    @classmethod
    def from_config(cls, cfg: dict) -> "FineWebC4":
        return cls(**{k: v for k, v in cfg.items() if k != "enabled" and not k.startswith("_")})

    def clean(self, text: str) -> "C4Result":
        """The kept lines (and their tokens) and the reason the page goes, if it does."""
        kept: List[str] = []
        tokens: List[str] = []
        sentences = 0
        for raw in text.splitlines():
            line = raw.strip()
            split = line.split()
            if self.max_word_length >= 0 and any(len(w) > self.max_word_length for w in split):
                continue
            if self.remove_citations and "[" in line:
                line = CITATION.sub("", line)
                split_after = line.split()
            else:
                split_after = split
            if len(split) < self.min_words_per_line:
                continue
            lower = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in lower:
                return C4Result(None, None, 0, REASON_C4_LOREM_IPSUM)
            if self.filter_javascript and "javascript" in lower:
                continue
            if self.filter_curly_bracket and "{" in line:
                return C4Result(None, None, 0, REASON_C4_CURLY_BRACKET)
            if self.filter_policy and any(p in lower for p in POLICY_PHRASES):
                continue
            line_tokens = chunk_words(split_after)
            sentences += count_sentences(line_tokens)
            tokens += line_tokens
            kept.append(line)
        return C4Result("\n".join(kept).strip(), tokens, sentences,
                        REASON_C4_TOO_FEW_SENTENCES if sentences < self.min_sentences else None)


class C4Result(NamedTuple):
    text: Optional[str]  # the kept lines (None when a lorem-ipsum or curly-bracket line drops the page)
    tokens: Optional[List[str]]  # `words(text)`
    sentences: int
    reason: Optional[str]  # None: kept


_IS_PUNCT: Dict[str, bool] = {}


def _punct(token: str) -> bool:
    """spaCy's `is_punct`: every character of Unicode category P*."""
    known = _IS_PUNCT.get(token)
    if known is None:
        if len(_IS_PUNCT) > 100_000:
            _IS_PUNCT.clear()
        known = _IS_PUNCT[token] = all(unicodedata.category(ch).startswith("P") for ch in token)
    return known


def count_sentences(tokens: Sequence[str]) -> int:
    """Sentences of one line's tokens as spaCy's sentencizer cuts them (see `FineWebC4`): 1, plus
    one for each sentence-terminal token followed (after any punctuation) by a token that is
    neither. Only the terminal tokens and the punctuation after them are looked at."""
    if not tokens:
        return 0
    ends = list(compress(range(len(tokens)), map(TERMINAL_PUNCTUATION.__contains__, tokens)))
    count, i = 1, 0
    for e in ends:
        if e < i:
            continue   # inside the run after an earlier end
        i = e + 1
        while i < len(tokens) and (tokens[i] in TERMINAL_PUNCTUATION or _punct(tokens[i])):
            i += 1
        if i < len(tokens):
            count += 1
    return count


def count_sentences_plain(tokens: Sequence[str]) -> int:
    """`count_sentences` token by token, as spaCy's sentencizer loop runs (the reference)."""
    if not tokens:
        return 0
    count, seen_end = 1, False
    for token in tokens:
        end = token in TERMINAL_PUNCTUATION
        if seen_end and not end and not _punct(token):
            count += 1
            seen_end = False
        elif end:
            seen_end = True
    return count


class FineWebStats(NamedTuple):
    line_count: int  # non-blank lines
    line_punct_ratio: float
    short_line_ratio: float
    char_dup_ratio: float
    list_ratio: float  # newlines per word token


def fineweb_stats(text: str, tokens: Optional[List[str]] = None, short_line_length: int = 30) -> FineWebStats:
    """Every FineWeb measure of one page (`tokens`: `gopher.words(text)`, when the caller has them)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return FineWebStats(0, 0.0, 0.0, 0.0, 0.0)
    n = len(lines)
    terminal = TERMINAL_PUNCTUATION
    punct = sum(1 for line in lines if line[-1] in terminal)
    short = sum(1 for line in lines if len(line) <= short_line_length)
    newlines = text.count("\n")
    chars = len(text) - newlines
    if tokens is None:
        tokens = words(text)
    return FineWebStats(n, punct / n, short / n, duplicates(lines)[1] / (chars or 1),
                        newlines / len(tokens) if tokens else 0.0)


class FineWebRules:
    """FineWebStats → None (keep) or the first rule broken; thresholds from `fineweb.json`."""

    def __init__(
        self,
        line_punct_thr: float = 0.12,  # minimum share of lines ending in terminal punctuation
        line_punct_exclude_zero: bool = False,  # keep pages with no such line at all
        short_line_thr: float = 0.67,  # maximum share of short lines
        short_line_length: int = 30,  # a short line has at most this many characters
        char_duplicates_ratio: float = 0.01,  # maximum share of characters in repeated lines
        new_line_ratio: float = 0.3,  # maximum newlines per word
    ):
        self.line_punct_thr = line_punct_thr
        self.line_punct_exclude_zero = line_punct_exclude_zero
        self.short_line_thr = short_line_thr
        self.short_line_length = short_line_length
        self.char_duplicates_ratio = char_duplicates_ratio
        self.new_line_ratio = new_line_ratio

    @classmethod
    def from_config(cls, cfg: dict) -> "FineWebRules":
        return cls(**{k: v for k, v in cfg.items() if k not in ("enabled", "sources", "c4") and not k.startswith("_")})

    def stats(self, text: str, tokens: Optional[List[str]] = None) -> FineWebStats:
        return fineweb_stats(text, tokens, self.short_line_length)

    def reason(self, s: FineWebStats) -> Optional[str]:
        if not s.line_count:
            return REASON_EMPTY
        if s.line_punct_ratio < self.line_punct_thr and not (s.line_punct_ratio == 0 and self.line_punct_exclude_zero):
            return REASON_LINE_PUNCT_RATIO
        if s.short_line_ratio > self.short_line_thr:
            return REASON_SHORT_LINE_RATIO
        if s.char_dup_ratio > self.char_duplicates_ratio:
            return REASON_CHAR_DUP_RATIO
        if s.list_ratio > self.new_line_ratio:
            return REASON_LIST_RATIO
        return None
