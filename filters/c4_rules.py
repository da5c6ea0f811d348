"""C4's cleaning rules (Raffel et al. 2020, §2.2 "Colossal Clean Crawled Corpus"), usable on any
web text: the released C4 already passed them; WET pages become C4-style text through them.

Line rules (a failing line is removed; the page goes on):
- `max_word_length`: lines with a "word" longer than this (default 1000 characters) go.
- terminal punctuation: keep only lines ending in ".", "!", "?" or '"', not in "..." (C4:
  "ended in a terminal punctuation mark").
- `min_words_per_line`: keep lines with at least this many words (C4: 3; 5 is a common variant).
- javascript: lines containing the word "javascript" go (C4: "Javascript must be enabled" notices).
- policy: lines mentioning terms of use, privacy or cookie policies go.
- citation markers: Wikipedia-style "[1]", "[edit]", "[citation needed]" are cut out of lines.

Page rules (the page is dropped, reason in parentheses):
- "lorem ipsum" (`c4_lorem_ipsum`) or a curly bracket "{" (`c4_curly_bracket`: code) in a line
  that passed the line rules above;
- no line left (`c4_no_lines`);
- a word of the bad-words list (`c4_bad_words`; C4 used the LDNOOBW list: give its path or URL
  as `badwords_path` for the full list, the built-in list is a short English excerpt);
- fewer than `min_sentences` sentences (`c4_too_few_sentences`; the paper says 5, the released
  C4 holds pages of 3, so 3 is the default).

Not here: C4's dedup of repeated three-sentence spans across the corpus (it needs the shuffle:
dedup/span_dedup.py, applied by the C4 source after these rules) and its language id
(langdetect ≥ 0.99; this project uses the fastText lid of the CommonCrawl path).
"""
from __future__ import annotations

import re
from collections import Counter
from typing import FrozenSet, Iterable, Optional, Tuple

from common.record import Document

TERMINAL_PUNCT = (".", "!", "?", '"')
ELLIPSIS = "..."
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
# A short excerpt of the LDNOOBW English list (C4's bad-words list); the full list via badwords_path.
BUILTIN_BADWORDS = frozenset({
    "anal", "anus", "bdsm", "blowjob", "bukkake", "cum", "cunt", "dildo", "fuck", "fucking",
    "gangbang", "hentai", "milf", "nigger", "porn", "porno", "pussy", "rape", "shemale",
    "slut", "threesome", "twat", "whore", "xxx",
})
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?:\s+|$)")

LINE_RULES = ("line_long_word", "line_no_terminal_punct", "line_too_few_words", "line_javascript", "line_policy")


def load_badwords(path: Optional[str]) -> FrozenSet[str]:
    """One word or phrase per line, from a local path or URL; the built-in excerpt when None."""
    if not path:
        return BUILTIN_BADWORDS
    from common import fetch

    with open(fetch.cached(path), encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def count_sentences(text: str) -> int:
    return sum(1 for _ in _SENTENCE_END.finditer(text.strip()))


class C4Rules:
    """doc → doc with its kept lines, or a `c4_*` drop reason. `line_counts` tallies removed lines
    per line rule (the Beam wrapper turns them into metrics)."""

    def __init__(self, min_words_per_line: int = 3, max_word_length: int = 1000, min_sentences: int = 3,
                 remove_citations: bool = True, filter_javascript: bool = True, filter_policy: bool = True,
                 filter_lorem_ipsum: bool = True, filter_curly_bracket: bool = True,
                 badwords: Iterable[str] = BUILTIN_BADWORDS):
        self.min_words_per_line = min_words_per_line  # fewer words: the line goes
        self.max_word_length = max_word_length  # a longer "word": the line goes
        self.min_sentences = min_sentences  # fewer sentences left: the page goes (released C4 holds 3-sentence pages)
        self.remove_citations = remove_citations  # cut "[1]", "[edit]", "[citation needed]"
        self.filter_javascript = filter_javascript  # drop lines mentioning javascript
        self.filter_policy = filter_policy  # drop terms/privacy/cookie policy lines
        self.filter_lorem_ipsum = filter_lorem_ipsum  # drop pages with placeholder text
        self.filter_curly_bracket = filter_curly_bracket  # drop pages with "{" (code)
        self.badwords = frozenset(w.lower() for w in badwords)  # drop pages using any of these
        # C4 matches a list entry between non-word characters. One-word entries: a set lookup of
        # the page's words; the rest ("2 girls 1 cup", "g-spot", "s&m"): one bounded regex.
        others = sorted(w for w in self.badwords if not _WORD.fullmatch(w))
        self._bad_phrases = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, others)) + r")(?!\w)") if others else None
        self.line_counts: Counter = Counter()

    @classmethod
    def from_config(cls, cfg: dict) -> "C4Rules":
        cfg = dict(cfg)
        badwords = load_badwords(cfg.pop("badwords_path", None))
        return cls(badwords=badwords, **cfg)

    def clean(self, text: str) -> Tuple[Optional[str], Optional[str]]:
        """(cleaned text, None) or (None, drop reason). C4's order: line by line, the line rules,
        with "lorem ipsum" and "{" in a line that passed them dropping the whole page; then the
        bad words and the sentence count on what is left."""
        kept = []
        for raw in text.split("\n"):
            line = raw.strip()
            if not line:
                continue
            if any(len(w) > self.max_word_length for w in line.split()):
                self.line_counts["line_long_word"] += 1
                continue
            if self.remove_citations:
                line = _CITATION.sub("", line).strip()
            if not line.endswith(TERMINAL_PUNCT) or line.endswith(ELLIPSIS):
                self.line_counts["line_no_terminal_punct"] += 1
                continue
            if len(line.split()) < self.min_words_per_line:
                self.line_counts["line_too_few_words"] += 1
                continue
            lower = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in lower:
                return None, "c4_lorem_ipsum"
            if self.filter_javascript and "javascript" in lower:
                self.line_counts["line_javascript"] += 1
                continue
            if self.filter_curly_bracket and "{" in line:
                return None, "c4_curly_bracket"
            if self.filter_policy and any(p in lower for p in POLICY_PHRASES):
                self.line_counts["line_policy"] += 1
                continue
            kept.append(line)
        if not kept:
            return None, "c4_no_lines"
        cleaned = "\n".join(kept)
        if self.badwords:
            lower = cleaned.lower()
            words = set(_WORD.findall(lower))
            if not words.isdisjoint(self.badwords) or (self._bad_phrases and self._bad_phrases.search(lower)):
                return None, "c4_bad_words"
        if count_sentences(cleaned) < self.min_sentences:
            return None, "c4_too_few_sentences"
        return cleaned, None

    def __call__(self, doc: Document):
        cleaned, reason = self.clean(doc.text)
        if reason:
            return reason
        return doc if cleaned == doc.text else doc.with_text(cleaned)
