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
"""
from __future__ import annotations

from typing import FrozenSet, List, NamedTuple, Optional

from filters.gopher import duplicates, words

REASON_EMPTY = "fineweb_empty"
REASON_LINE_PUNCT_RATIO = "fineweb_line_punct_ratio"
REASON_SHORT_LINE_RATIO = "fineweb_short_line_ratio"
REASON_CHAR_DUP_RATIO = "fineweb_char_dup_ratio"
REASON_LIST_RATIO = "fineweb_list_ratio"


def _sentence_terminals() -> FrozenSet[str]:
    import regex

    # One pass over the code points a sentence can end with is cheap (~0.1 s once per process).
    return frozenset(regex.findall(r"\p{Sentence_Terminal}", "".join(map(chr, range(0x20, 0x30000)))))


TERMINAL_PUNCTUATION = _sentence_terminals()


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
        return cls(**{k: v for k, v in cfg.items() if k not in ("enabled", "sources") and not k.startswith("_")})

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
