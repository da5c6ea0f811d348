"""cc_net's text normalisation for language modelling, written once and reused.

The reference LM is trained on, and scores, text normalised the same way:
- lowercase;
- accents stripped (NFD, then combining marks removed: "café" → "cafe");
- every decimal digit → "0" (numbers carry little language signal and blow up the vocabulary),
  before the punctuation map, as in cc_net (so the full-width "１" listed there becomes "0");
- Unicode punctuation mapped to its ASCII counterpart ("“" → '"', "—" → " - ", "…" → "...");
- non-printing control characters removed, the tab included (cc_net removes it inside a line);
  only the newline survives: lines are split on it.

The work is done over the whole document at once with C-level passes (`lower`, a bytes translate
for ASCII text; `unicodedata.normalize` and character-class regexes otherwise), because this runs
on every CommonCrawl document.
"""
from __future__ import annotations

import re
import unicodedata
from typing import List

# Unicode punctuation → ASCII, as cc_net maps it (full-width forms, CJK and typographic marks).
UNICODE_PUNCT = {
    "，": ",", "。": ".", "、": ",", "„": '"', "”": '"', "“": '"', "«": '"', "»": '"',
    "１": '"', "」": '"', "「": '"', "《": '"', "》": '"', "´": "'", "∶": ":", "：": ":",
    "？": "?", "！": "!", "（": "(", "）": ")", "；": ";", "–": "-", "—": " - ", "．": ". ",
    "～": "~", "’": "'", "…": "...", "━": "-", "〈": "<", "〉": ">", "【": "[", "】": "]",
    "％": "%", "►": "-",
}


def _ranges(codepoints) -> str:
    """A regex character class body for a sorted list of code points, as ranges."""
    out, start, prev = [], None, None
    for cp in codepoints:
        if start is None:
            start = prev = cp
        elif cp == prev + 1:
            prev = cp
        else:
            out.append((start, prev))
            start = prev = cp
    if start is not None:
        out.append((start, prev))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in out)


# The combining marks (category Mn) left by NFD are the accents. A regex class of all ~2,000 of them
# scans slowly, so the marks present in a document are found from its set of characters first.
_MN_CACHE: dict = {}


def _strip_marks(text: str) -> str:
    marks = [c for c in set(text) if c >= "\u0300" and unicodedata.category(c) == "Mn"]
    if not marks:
        return text
    key = "".join(sorted(marks))
    pattern = _MN_CACHE.get(key)
    if pattern is None:
        if len(_MN_CACHE) > 4096:
            _MN_CACHE.clear()
        pattern = _MN_CACHE[key] = re.compile("[" + re.escape(key) + "]+")
    return pattern.sub("", text)


_DIGIT = re.compile(r"\d")  # Unicode category Nd, like cc_net's DIGIT_RE
_PUNCT = re.compile("[" + re.escape("".join(UNICODE_PUNCT)) + "]")
# C0/C1 control characters; the newline is kept by `normalize` (lines are split on it).
_CONTROL_CPS = list(range(0, 32)) + list(range(127, 160))
_CONTROL_KEEP_NL = re.compile("[" + _ranges(c for c in _CONTROL_CPS if c != 10) + "]+")
_CONTROL_ALL = re.compile("[" + _ranges(_CONTROL_CPS) + "]+")
# ASCII text takes a bytes pass: digits → 0 and controls deleted by one C-level translate.
_ASCII_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_ASCII_CONTROL_KEEP_NL = bytes(c for c in _CONTROL_CPS if c < 128 and c != 10)
_ASCII_CONTROL_ALL = bytes(c for c in _CONTROL_CPS if c < 128)


def _punct(m) -> str:
    return UNICODE_PUNCT[m.group()]


def _normalize_unicode(text: str, keep_newline: bool) -> str:
    text = _strip_marks(unicodedata.normalize("NFD", text.lower()))
    # Digits first, as cc_net: the full-width "１" of the punctuation map becomes "0", not '"'.
    text = _DIGIT.sub("0", text)
    text = _PUNCT.sub(_punct, text)
    return (_CONTROL_KEEP_NL if keep_newline else _CONTROL_ALL).sub("", text)


def _normalize(text: str, keep_newline: bool) -> str:
    delete = _ASCII_CONTROL_KEEP_NL if keep_newline else _ASCII_CONTROL_ALL
    if text.isascii():  # no accents, no Unicode punctuation, ASCII digits and controls only
        return text.encode("ascii").lower().translate(_ASCII_DIGITS, delete).decode("ascii")
    # Most lines of a page are ASCII even when a few are not: every line goes through the bytes
    # pass (bytes.lower() is ASCII-only and ASCII bytes never occur inside a multi-byte character),
    # and the lines still not ASCII are redone from their original text by the Unicode steps (from
    # the original: lowercasing before the controls go keeps cc_net's order for the final sigma).
    # The newline is a boundary for every step, so line by line equals the whole text at once.
    lines = text.encode("utf-8", "surrogatepass").lower().translate(_ASCII_DIGITS, _ASCII_CONTROL_KEEP_NL).split(b"\n")
    original = text.split("\n")
    out = [line.decode("ascii") if line.isascii() else None for line in lines]
    rest = [i for i, line in enumerate(out) if line is None]
    # The non-ASCII lines in one call (one string, newline-separated): no per-line overhead.
    for i, line in zip(rest, _normalize_unicode("\n".join(original[i] for i in rest), True).split("\n")):
        out[i] = line
    return ("\n" if keep_newline else "").join(out)


def normalize(text: str) -> str:
    """The whole normalisation on a document or a line (newlines kept, lines stripped by callers)."""
    return _normalize(text, keep_newline=True)


def normalize_document(text: str) -> str:
    """cc_net's `text_normalizer.normalize` applied to a whole document, as `mine.py` does before
    SentencePiece: the document is stripped once, then lowercased, accents stripped, digits → 0,
    punctuation mapped, and every control character deleted, the newline too, so the lines are
    glued with nothing between them ("a.\\nb" → "a.b"). No strip after: cc_net strips before it
    deletes the controls, so "\\x01 a" keeps its space."""
    text = text.strip()
    if not text:
        return text
    return _normalize(text, keep_newline=False)


def normalized_lines(text: str) -> List[str]:
    """Non-empty normalised lines of a document, each stripped of surrounding whitespace."""
    return [line for line in (raw.strip() for raw in normalize(text).split("\n")) if line]
