"""C4's cleaning rules, as TFDS `c4_utils.py` (the code that made the released C4) applies them,
usable on any web text: the released C4 already passed them; WET pages become C4-style text
through them. Raffel et al. 2020, §2.2; TFDS `c4` config `en`.

`C4Rules` (before C4's corpus-wide dedup), in TFDS's order:
- page length: a page of more than `max_page_chars` characters (TFDS `is_valid_length`: 1.9e5)
  is dropped before anything else (`c4_page_too_long`).
- per line (a failing line is removed; the page goes on): a "word" (whitespace-separated) longer
  than `max_word_length` (1000); citation markers "[1]", "[]", "[edit]", "[citation needed]" cut
  out (case-sensitive, the line not re-stripped: "text. [edit]" then ends in a space and goes, as
  in TFDS); no terminal punctuation (".", "?", "!", '"'), or an ellipsis "..."; fewer than
  `min_words_per_line` words (TFDS `_MIN_WORDS_PER_LINE = 5`: the released C4 has no 3- or 4-word
  lines; the paper says 3); "javascript" in the line; a terms-of-use / privacy / cookie policy phrase.
- per page: "lorem ipsum" (`c4_lorem_ipsum`) or "{" (`c4_curly_bracket`: code) in a line that
  passed the line rules so far drops the whole page; no line left (`c4_no_lines`); fewer than
  `min_sentences` sentences (`c4_too_few_sentences`; TFDS `_MIN_NUM_SENTENCES = 3`; the paper's
  "at least five sentences" is not what the code did).

`C4AfterDedup` (after the dedup, `pipeline/sources/c4.py`): the sentence count again on what the
dedup left (`c4_too_few_sentences_after_dedup`; TFDS `_remove_lines_from_text`), then the bad
words (`c4_bad_words`): a page where any entry of the LDNOOBW English list occurs between non-word
characters (or the text's ends) is dropped, on the lowercased text (TFDS `get_badwords_filter_fn`,
after language id there; here before it, which changes only the reason a page failing both is
counted under). The full list ships in `filters/badwords/en` (CC BY 4.0, licence beside it), at the
commit C4 pinned; `badwords_path` names another list (path or URL).

Sentences: TFDS counts them with NLTK's Punkt English model, which is data NLTK downloads at run
time and no package here ships; `count_sentences` counts runs of end marks followed by whitespace
or the end (TFDS's own docstring: "a simple count of end marks"). Abbreviations ("Mr.", "U.S.")
count as ends here and not in Punkt, so a page near the threshold can differ.

Not here: C4's dedup (through the shuffle: `dedup/span_dedup.py`), its URL dedup and language id
(`pipeline/sources/c4.py`).
"""
from __future__ import annotations

import os
import re
from collections import Counter
from typing import FrozenSet, Iterable, Optional, Tuple

from common.record import Document

TERMINAL_PUNCT = (".", "?", "!", '"')
ELLIPSIS = "..."
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
BUNDLED_BADWORDS = os.path.join(os.path.dirname(__file__), "badwords", "en")

PAGE_TOO_LONG = "c4_page_too_long"
LOREM_IPSUM = "c4_lorem_ipsum"
CURLY_BRACKET = "c4_curly_bracket"
NO_LINES = "c4_no_lines"
TOO_FEW_SENTENCES = "c4_too_few_sentences"
TOO_FEW_SENTENCES_AFTER_DEDUP = "c4_too_few_sentences_after_dedup"
BAD_WORDS = "c4_bad_words"

CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?:\s+|$)")

LINE_RULES = ("line_long_word", "line_no_terminal_punct", "line_too_few_words", "line_javascript", "line_policy")


def load_badwords(path: Optional[str]) -> FrozenSet[str]:
    """One entry per line, from a local path or URL; the bundled LDNOOBW English list when None."""
    if path:
        from common import fetch

        path = fetch.cached(path)
    with open(path or BUNDLED_BADWORDS, encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def count_sentences(text: str) -> int:
    return sum(1 for _ in _SENTENCE_END.finditer(text.strip()))


class BadWords:
    """`text → bool`: does any entry occur between non-word characters of the lowercased text?
    As TFDS's regex `(?:\\W|^)(e1|e2|…)(?:\\W|$)`, entries as written (an entry with capitals
    never matches lowercased text there, nor here). One-word entries are a set lookup of the
    text's `\\w+` words (the same matches); the others ("2 girls 1 cup", "g-spot", "s&m", "🖕") one
    regex with the same boundaries."""

    def __init__(self, entries: Iterable[str]):
        entries = frozenset(entries)
        self.words = frozenset(e for e in entries if _WORD.fullmatch(e))
        others = sorted(e for e in entries if not _WORD.fullmatch(e))
        self.phrases = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, others)) + r")(?!\w)") if others else None

    def __call__(self, text: str) -> bool:
        lower = text.lower()
        if not self.words.isdisjoint(_WORD.findall(lower)):
            return True
        return bool(self.phrases and self.phrases.search(lower))


class C4Rules:
    """doc → doc with its kept lines, or a `c4_*` drop reason. `line_counts` tallies removed lines
    per line rule (the Beam wrapper turns them into metrics)."""

    def __init__(self, min_words_per_line: int = 5, max_word_length: int = 1000, min_sentences: int = 3,
                 max_page_chars: int = 190_000, remove_citations: bool = True, filter_javascript: bool = True,
                 filter_policy: bool = True, filter_lorem_ipsum: bool = True, filter_curly_bracket: bool = True):
        self.min_words_per_line = min_words_per_line  # fewer words: the line goes (TFDS: 5)
        self.max_word_length = max_word_length  # a longer "word": the line goes
        self.min_sentences = min_sentences  # fewer sentences left: the page goes (TFDS: 3)
        self.max_page_chars = max_page_chars  # a longer page goes before any rule (TFDS: 1.9e5)
        self.remove_citations = remove_citations  # cut "[1]", "[edit]", "[citation needed]"
        self.filter_javascript = filter_javascript  # drop lines mentioning javascript
        self.filter_policy = filter_policy  # drop terms/privacy/cookie policy lines
        self.filter_lorem_ipsum = filter_lorem_ipsum  # drop pages with placeholder text
        self.filter_curly_bracket = filter_curly_bracket  # drop pages with "{" (code)
        self.line_counts: Counter = Counter()

    @classmethod
    def from_config(cls, cfg: dict) -> "C4Rules":
        """The recipe's `c4.rules` section (its bad-words keys belong to `C4AfterDedup`)."""
        return cls(**{k: v for k, v in cfg.items() if k not in ("enabled", "badwords", "badwords_path")})

    def clean(self, text: str) -> Tuple[Optional[str], Optional[str]]:
        """(cleaned text, None) or (None, drop reason)."""
        if len(text) > self.max_page_chars:
            return None, PAGE_TOO_LONG
        kept = []
        for raw in text.splitlines():
            line = raw.strip()
            if any(len(w) > self.max_word_length for w in line.split()):
                self.line_counts["line_long_word"] += 1
                continue
            if self.remove_citations:
                line = CITATION.sub("", line)
            if not line.endswith(TERMINAL_PUNCT) or line.endswith(ELLIPSIS):
                self.line_counts["line_no_terminal_punct"] += 1
                continue
            if len(line.split()) < self.min_words_per_line:
                self.line_counts["line_too_few_words"] += 1
                continue
            lower = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in lower:
                return None, LOREM_IPSUM
            if self.filter_javascript and "javascript" in lower:
                self.line_counts["line_javascript"] += 1
                continue
            if self.filter_curly_bracket and "{" in line:
                return None, CURLY_BRACKET
            if self.filter_policy and any(p in lower for p in POLICY_PHRASES):
                self.line_counts["line_policy"] += 1
                continue
            kept.append(line)
        if not kept:
            return None, NO_LINES
        cleaned = "\n".join(kept).strip()
        if count_sentences(cleaned) < self.min_sentences:
            return None, TOO_FEW_SENTENCES
        return cleaned, None

    def __call__(self, doc: Document):
        cleaned, reason = self.clean(doc.text)
        if reason:
            return reason
        return doc if cleaned == doc.text else doc.with_text(cleaned)


class C4AfterDedup:
    """doc → doc, or `c4_too_few_sentences_after_dedup` / `c4_bad_words`: C4's page checks on what
    its dedup left."""

    def __init__(self, min_sentences: int = 3, badwords: Optional[Iterable[str]] = None, filter_badwords: bool = True):
        self.min_sentences = min_sentences
        self.badwords = BadWords(load_badwords(None) if badwords is None else badwords) if filter_badwords else None

    @classmethod
    def from_config(cls, cfg: dict) -> "C4AfterDedup":
        return cls(cfg["min_sentences"], load_badwords(cfg["badwords_path"]), cfg["badwords"])

    def __call__(self, doc: Document):
        if self.min_sentences and count_sentences(doc.text) < self.min_sentences:
            return TOO_FEW_SENTENCES_AFTER_DEDUP
        if self.badwords is not None and self.badwords(doc.text):
            return BAD_WORDS
        return doc
