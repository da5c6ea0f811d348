"""cc_net's text normalisation for language modelling, written once and reused.

The reference LM is trained on, and scores, text normalised the same way:
- lowercase;
- accents stripped (NFD, then combining marks removed: "café" → "cafe");
- every decimal digit → "0" (numbers carry little language signal and blow up the vocabulary),
  before the punctuation map, as in cc_net (so the full-width "１" listed there becomes "0");
- Unicode punctuation mapped to its ASCII counterpart ("“" → '"', "—" → " - ", "…" → "...");
- non-printing control characters removed, the tab included (cc_net removes it inside a line);
  only the newline survives: lines are split on it.

The work is done with C-level string methods (`lower`, `unicodedata.normalize`, `str.translate`)
over the whole document at once, because this runs on every CommonCrawl document.
"""
from __future__ import annotations

import sys
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


def _build_table() -> dict:
    table: dict = {ord(src): dst for src, dst in UNICODE_PUNCT.items()}
    # Digits of every script (Unicode category Nd), not only ASCII 0-9.
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Nd":  # overrides the punctuation map: cc_net replaces digits first
            table[cp] = "0"
        elif cat == "Mn":  # combining marks left by NFD: the accents
            table[cp] = None
    # C0/C1 control characters, except the newline that separates the lines.
    for cp in list(range(0, 32)) + list(range(127, 160)):
        if cp != ord("\n"):
            table[cp] = None
    return table


_TABLE = _build_table()


def normalize(text: str) -> str:
    """The whole normalisation on a document or a line (newlines kept, lines stripped by callers)."""
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFD", text)
    return text.translate(_TABLE)


_DOC_TABLE = {**_TABLE, ord("\n"): None}


def normalize_document(text: str) -> str:
    """cc_net's `text_normalizer.normalize` applied to a whole document, as `mine.py` does before
    SentencePiece: the document is stripped once, then lowercased, accents stripped, digits → 0,
    punctuation mapped, and every control character deleted, the newline too, so the lines are
    glued with nothing between them ("a.\nb" → "a.b"). No strip after: cc_net strips before it
    deletes the controls, so "\x01 a" keeps its space."""
    text = text.strip()
    if not text:
        return text
    text = text.lower()
    if not text.isascii():
        text = unicodedata.normalize("NFD", text)
    return text.translate(_DOC_TABLE)


def normalized_lines(text: str) -> List[str]:
    """Non-empty normalised lines of a document, each stripped of surrounding whitespace."""
    return [line for line in (raw.strip() for raw in normalize(text).split("\n")) if line]
